import { RecordingBus, SessionBus, type Transport } from '@sallyport/bus';
import { loadConfig, type Config } from '@sallyport/config';
import type { Keyring } from '@sallyport/crypto';
import type { Database } from '@sallyport/db';
import type { JobQueue } from '@sallyport/jobs';
import { createLogger, type Logger } from '@sallyport/log';
import { createRegistry, type ReadinessChecks, type Registry } from '@sallyport/observability';
import { openBus } from './bus.js';
import { openDatabaseFromConfig } from './database.js';
import { openJobQueue } from './jobs.js';
import { openKeyring } from './keyring.js';

/** What every service's main builds before its own parts: settings, logs, metrics, stores. */
export interface BaseContext {
  config: Config;
  log: Logger;
  registry: Registry;
  keyring: Keyring;
  db: Database;
  /** /readyz: the stores answer. */
  checks: ReadinessChecks;
  /** Closes the stores (after the service's own parts have stopped). */
  close(): Array<[name: string, step: () => Promise<unknown>]>;
}

/** A service that meets the others on the bus (every one but the sftp-worker). */
export interface ServiceContext extends BaseContext {
  transport: Transport;
  bus: SessionBus;
  /** Session workers hand recorded sessions to the recorders here. */
  recordingBus: RecordingBus;
  /** Background jobs (recording finalisation, retention); connects only once used. */
  jobs: JobQueue;
}

/**
 * Reads the configuration and opens what every service needs but the bus. Embedded mode may
 * fall back to a generated key and PGlite; a separate service must be given the shared ones.
 */
export async function openBaseContext(
  service: string,
  options: { embedded: boolean },
): Promise<BaseContext> {
  const config = loadConfig();
  const log = createLogger(service, { level: config.logLevel });
  const registry = createRegistry({ service });
  const keyring = await openKeyring(config, log, { allowKeyFile: options.embedded });
  const db = await openDatabaseFromConfig(config, { allowPglite: options.embedded });
  return {
    config,
    log,
    registry,
    keyring,
    db,
    checks: { database: () => db.ping() },
    close: () => [['database', () => db.close()]],
  };
}

/** The base context, the bus and the job queue: over Redis, or in memory in embedded mode. */
export async function openServiceContext(
  service: string,
  options: { embedded: boolean },
): Promise<ServiceContext> {
  const base = await openBaseContext(service, options);
  const transport = openBus(base.config, base.log, { allowMemory: options.embedded });
  const jobs = openJobQueue(base.config, base.log, base.registry, {
    allowMemory: options.embedded,
  });
  return {
    ...base,
    transport,
    bus: new SessionBus(transport),
    recordingBus: new RecordingBus(transport),
    jobs,
    // Jobs and the bus share REDIS_URL: the bus's check answers for both.
    checks: { ...base.checks, bus: () => transport.ping() },
    close: () => [['jobs', () => jobs.close()], ['bus', () => transport.close()], ...base.close()],
  };
}
