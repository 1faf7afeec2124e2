import { RateLimiter, SessionBus } from '@sallyport/bus';
import { loadConfig } from '@sallyport/config';
import { startGateway, uiDir } from '@sallyport/gateway';
import { createLogger } from '@sallyport/log';
import { createRegistry } from '@sallyport/observability';
import {
  onShutdown,
  runMain,
  openBus,
  openDatabaseFromConfig,
  openKeyring,
} from '@sallyport/runtime';
import { startSessionWorker } from '@sallyport/session-worker';

// Embedded mode: every service in this one process. With no configuration the database is
// PGlite under the data directory and the bus is in memory; DATABASE_URL and REDIS_URL switch
// either to the real thing.
runMain('sallyport', async () => {
  const config = loadConfig();
  const log = createLogger('sallyport', { level: config.logLevel });
  const registry = createRegistry({ service: 'sallyport' });

  const keyring = await openKeyring(config, log, { allowKeyFile: true });
  const db = await openDatabaseFromConfig(config, { allowPglite: true });
  const transport = openBus(config, log, { allowMemory: true });
  const bus = new SessionBus(transport);
  const worker = startSessionWorker(
    { workerId: config.worker.id, maxSessions: config.worker.maxSessions, ssh: config.ssh },
    { bus, prisma: db.prisma, keyring, log, registry },
  );
  const gateway = await startGateway(
    { ...config.gateway, uiDir, adminUser: config.adminUser, adminPassword: config.adminPassword },
    {
      prisma: db.prisma,
      bus,
      limiter: new RateLimiter(transport),
      keyring,
      log,
      registry,
      checks: { database: () => db.ping(), bus: () => transport.ping() },
    },
  );
  log.info(
    { url: config.gateway.publicUrl, dataDir: config.dataDir },
    'Sallyport is running (embedded mode)',
  );

  // The worker goes first so that its clients are told why their sessions end.
  onShutdown(log, [
    ['session worker', () => worker.stop()],
    ['gateway', () => gateway.close()],
    ['bus', () => transport.close()],
    ['database', () => db.close()],
  ]);
});
