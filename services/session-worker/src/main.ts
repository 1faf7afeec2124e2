import { SessionBus } from '@sallyport/bus';
import { loadConfig } from '@sallyport/config';
import { createLogger } from '@sallyport/log';
import { createRegistry, startOpsServer } from '@sallyport/observability';
import {
  onShutdown,
  runMain,
  openBus,
  openDatabaseFromConfig,
  openKeyring,
} from '@sallyport/runtime';
import { startSessionWorker } from './worker.js';

// The session worker as its own process (distributed mode): Redis and PostgreSQL required.
runMain('session-worker', async () => {
  const config = loadConfig();
  const log = createLogger('session-worker', { level: config.logLevel });
  const registry = createRegistry({ service: 'session-worker' });

  const keyring = await openKeyring(config, log, { allowKeyFile: false });
  const db = await openDatabaseFromConfig(config, { allowPglite: false });
  const transport = openBus(config, log, { allowMemory: false });
  const bus = new SessionBus(transport);
  const worker = startSessionWorker(
    { workerId: config.worker.id, maxSessions: config.worker.maxSessions, ssh: config.ssh },
    { bus, prisma: db.prisma, keyring, log, registry },
  );
  const ops = await startOpsServer({
    host: config.worker.httpHost,
    port: config.worker.httpPort,
    registry,
    checks: { database: () => db.ping(), bus: () => transport.ping() },
  });
  log.info({ url: ops.url, workerId: config.worker.id }, 'session worker ready');

  onShutdown(log, [
    ['worker', () => worker.stop()],
    ['ops server', () => ops.close()],
    ['bus', () => transport.close()],
    ['database', () => db.close()],
  ]);
});
