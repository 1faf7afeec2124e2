import { RateLimiter, SessionBus } from '@sallyport/bus';
import { loadConfig } from '@sallyport/config';
import { createLogger } from '@sallyport/log';
import { createRegistry } from '@sallyport/observability';
import {
  onShutdown,
  runMain,
  openBus,
  openDatabaseFromConfig,
  openKeyring,
} from '@sallyport/runtime';
import { startGateway } from './app.js';
import { uiDir } from './ui-dir.js';

// The gateway as its own process (distributed mode): Redis and PostgreSQL required.
runMain('gateway', async () => {
  const config = loadConfig();
  const log = createLogger('gateway', { level: config.logLevel });
  const registry = createRegistry({ service: 'gateway' });

  const keyring = await openKeyring(config, log, { allowKeyFile: false });
  const db = await openDatabaseFromConfig(config, { allowPglite: false });
  const transport = openBus(config, log, { allowMemory: false });
  const bus = new SessionBus(transport);
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

  onShutdown(log, [
    ['gateway', () => gateway.close()],
    ['bus', () => transport.close()],
    ['database', () => db.close()],
  ]);
});
