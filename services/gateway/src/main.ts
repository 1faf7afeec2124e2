import { RateLimiter } from '@sallyport/bus';
import { onShutdown, openServiceContext, runMain, setHeapGrowth } from '@sallyport/runtime';
import { startGateway } from './app.js';
import { uiDir } from './ui-dir.js';

// The gateway as its own process (distributed mode): Redis and PostgreSQL required.
runMain('gateway', async () => {
  // File transfers pass through in buffers outside the heap: room for them between full
  // collections. Less than the sftp-worker's, as the gateway's heap grows with its sessions.
  setHeapGrowth(100);
  const ctx = await openServiceContext('gateway', { embedded: false });
  const { config } = ctx;
  const { workerUrl } = config.sftp;
  if (workerUrl && !config.internalSecret)
    throw new Error(
      'SALLYPORT_INTERNAL_SECRET is required with SALLYPORT_SFTP_WORKER_URL: set the same secret on gateways and sftp-workers',
    );
  const gateway = await startGateway(
    {
      ...config.gateway,
      uiDir,
      adminUser: config.adminUser,
      adminPassword: config.adminPassword,
      files: workerUrl ? { workerUrl, internalSecret: config.internalSecret! } : undefined,
    },
    { ...ctx, prisma: ctx.db.prisma, limiter: new RateLimiter(ctx.transport) },
  );
  onShutdown(ctx.log, [['gateway', () => gateway.close()], ...ctx.close()]);
});
