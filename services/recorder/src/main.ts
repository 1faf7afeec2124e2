import { startOpsServer } from '@sallyport/observability';
import { DirectoryRecordingStore } from '@sallyport/recording';
import { onShutdown, openServiceContext, runMain } from '@sallyport/runtime';
import { recorderOptionsFrom } from './options.js';
import { startRecorder } from './recorder.js';

// The recorder as its own process (distributed mode): Redis (the bus, and BullMQ for its
// finalisation and retention jobs), PostgreSQL and a recordings directory shared with the
// gateways required.
runMain('recorder', async () => {
  const ctx = await openServiceContext('recorder', { embedded: false });
  const { config } = ctx;
  const recorder = startRecorder(recorderOptionsFrom(config), {
    ...ctx,
    prisma: ctx.db.prisma,
    sessionBus: ctx.bus,
    store: new DirectoryRecordingStore(config.recording.dir),
  });
  const ops = await startOpsServer({
    host: config.recorder.httpHost,
    port: config.recorder.httpPort,
    ...ctx,
  });
  ctx.log.info(
    { url: ops.url, recorderId: config.recorder.id, dir: config.recording.dir },
    'recorder ready',
  );
  onShutdown(ctx.log, [
    ['recorder', () => recorder.stop()],
    ['ops server', () => ops.close()],
    ...ctx.close(),
  ]);
});
