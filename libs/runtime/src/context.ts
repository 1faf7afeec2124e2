import { RecordingBus, SessionBus, type Transport } from '@sallyport/bus';
import { loadConfig, type Config } from '@sallyport/config';
import type { Keyring } from '@sallyport/crypto';
import type { Database } from '@sallyport/db';
import { createLogger, type Logger } from '@sallyport/log';
import { createRegistry, type ReadinessChecks, type Registry } from '@sallyport/observability';
import { openBus } from './bus.js';
import { openDatabaseFromConfig } from './database.js';
import { openKeyring } from './keyring.js';

/** What every service's main builds before its own parts: settings, logs, metrics, stores. */
export interface ServiceContext {
  config: Config;
  log: Logger;
  registry: Registry;
  keyring: Keyring;
  db: Database;
  transport: Transport;
  bus: SessionBus;
  /** Session workers hand recorded sessions to the recorders here. */
  recordingBus: RecordingBus;
  /** /readyz: the database and the bus answer. */
  checks: ReadinessChecks;
  /** Closes the bus and the database (after the service's own parts have stopped). */
  close(): Array<[name: string, step: () => Promise<unknown>]>;
}

/**
 * Reads the configuration and opens what a service needs. Embedded mode may fall back to a
 * generated key, PGlite and the in-memory bus; a separate service must be given the shared ones.
 */
export async function openServiceContext(
  service: string,
  options: { embedded: boolean },
): Promise<ServiceContext> {
  const config = loadConfig();
  const log = createLogger(service, { level: config.logLevel });
  const registry = createRegistry({ service });
  const keyring = await openKeyring(config, log, { allowKeyFile: options.embedded });
  const db = await openDatabaseFromConfig(config, { allowPglite: options.embedded });
  const transport = openBus(config, log, { allowMemory: options.embedded });
  return {
    config,
    log,
    registry,
    keyring,
    db,
    transport,
    bus: new SessionBus(transport),
    recordingBus: new RecordingBus(transport),
    checks: { database: () => db.ping(), bus: () => transport.ping() },
    close: () => [
      ['bus', () => transport.close()],
      ['database', () => db.close()],
    ],
  };
}
