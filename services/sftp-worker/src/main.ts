import { onShutdown, openBaseContext, runMain, setHeapGrowth } from '@sallyport/runtime';
import { startSftpWorker } from './app.js';

// The sftp-worker as its own process (distributed mode): PostgreSQL required, no Redis.
runMain('sftp-worker', async () => {
  // Transfers allocate several times their bytes in buffers outside the heap (socket reads,
  // SSH packets): room for that between full collections, measured in the bench.
  setHeapGrowth(300);
  const ctx = await openBaseContext('sftp-worker', { embedded: false });
  const { config } = ctx;
  if (!config.internalSecret)
    throw new Error(
      'SALLYPORT_INTERNAL_SECRET is required: set it to the same secret on gateways and sftp-workers (e.g. `openssl rand -base64 32`)',
    );
  const worker = await startSftpWorker(
    {
      ...config.sftp,
      host: config.sftp.httpHost,
      port: config.sftp.httpPort,
      internalSecret: config.internalSecret,
      ssh: config.ssh,
    },
    { ...ctx, prisma: ctx.db.prisma },
  );
  ctx.log.info({ url: worker.url }, 'sftp-worker listening');
  onShutdown(ctx.log, [['sftp-worker', () => worker.close()], ...ctx.close()]);
});
