import { startOpsServer } from '@sallyport/observability';
import { keepHeapHeadroom, onShutdown, openServiceContext, runMain } from '@sallyport/runtime';
import { startSessionWorker, workerOptionsFrom } from './worker.js';

// The session worker as its own process (distributed mode): Redis and PostgreSQL required.
runMain('session-worker', async () => {
  // Room for output's buffers between full collections while the heap is small (few sessions).
  keepHeapHeadroom(64 * 1024 * 1024);
  const ctx = await openServiceContext('session-worker', { embedded: false });
  const { config } = ctx;
  const worker = startSessionWorker(workerOptionsFrom(config), { ...ctx, prisma: ctx.db.prisma });
  const ops = await startOpsServer({
    host: config.worker.httpHost,
    port: config.worker.httpPort,
    ...ctx,
  });
  ctx.log.info({ url: ops.url, workerId: config.worker.id }, 'session worker ready');
  onShutdown(ctx.log, [
    ['worker', () => worker.stop()],
    ['ops server', () => ops.close()],
    ...ctx.close(),
  ]);
});
