import { randomBytes } from 'node:crypto';
import { RateLimiter } from '@sallyport/bus';
import { startGateway, uiDir } from '@sallyport/gateway';
import { recorderOptionsFrom, startRecorder } from '@sallyport/recorder';
import { DirectoryRecordingStore } from '@sallyport/recording';
import { onShutdown, openServiceContext, runMain } from '@sallyport/runtime';
import { startSessionWorker, workerOptionsFrom } from '@sallyport/session-worker';
import { startSftpWorker } from '@sallyport/sftp-worker';

// Embedded mode: every service in this one process. With no configuration the database is
// PGlite under the data directory, and the bus and the job queue are in memory; DATABASE_URL
// and REDIS_URL switch them to the real thing (REDIS_URL: the bus and BullMQ).
runMain('sallyport', async () => {
  const ctx = await openServiceContext('sallyport', { embedded: true });
  const { config } = ctx;
  const worker = startSessionWorker(workerOptionsFrom(config), { ...ctx, prisma: ctx.db.prisma });
  const recorder = startRecorder(recorderOptionsFrom(config), {
    ...ctx,
    prisma: ctx.db.prisma,
    sessionBus: ctx.bus,
    store: new DirectoryRecordingStore(config.recording.dir),
  });
  // The sftp-worker runs in this process too, on a loopback port only this process knows, with
  // a signing secret made for this run: the gateway reaches it exactly as in distributed mode.
  const internalSecret = config.internalSecret ?? randomBytes(32).toString('base64url');
  const sftpWorker = await startSftpWorker(
    { ...config.sftp, host: '127.0.0.1', port: 0, internalSecret, ssh: config.ssh },
    { ...ctx, prisma: ctx.db.prisma },
  );
  const gateway = await startGateway(
    {
      ...config.gateway,
      uiDir,
      adminUser: config.adminUser,
      adminPassword: config.adminPassword,
      files: { workerUrl: sftpWorker.url, internalSecret },
    },
    { ...ctx, prisma: ctx.db.prisma, limiter: new RateLimiter(ctx.transport) },
  );
  ctx.log.info(
    { url: config.gateway.publicUrl, dataDir: config.dataDir },
    'Sallyport is running (embedded mode)',
  );
  // The worker goes first so that its clients are told why their sessions end.
  onShutdown(ctx.log, [
    ['session worker', () => worker.stop()],
    ['recorder', () => recorder.stop()],
    ['gateway', () => gateway.close()],
    ['sftp-worker', () => sftpWorker.close()],
    ...ctx.close(),
  ]);
});
