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
  const bus = openBus(config, log, { allowMemory: false });
  const gateway = await startGateway(
    { ...config.gateway, uiDir, adminUser: config.adminUser, adminPassword: config.adminPassword },
    {
      prisma: db.prisma,
      bus,
      keyring,
      log,
      registry,
      checks: { database: () => db.ping(), bus: () => bus.ping() },
    },
  );

  onShutdown(log, [
    ['gateway', () => gateway.close()],
    ['bus', () => bus.close()],
    ['database', () => db.close()],
  ]);
});
