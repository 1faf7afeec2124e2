import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../harness/postgres.js';
import { freePort, spawnService, type ServiceHandle } from '../harness/processes.js';
import { REDIS_URL, cleanupPrefix, uniquePrefix } from '../harness/redis.js';
import { ApiClient } from './api.js';

// The built services, exactly what `npm start` and the images run.
const ENTRY = {
  embedded: 'services/embedded/dist/main.js',
  gateway: 'services/gateway/dist/main.js',
  worker: 'services/session-worker/dist/main.js',
  recorder: 'services/recorder/dist/main.js',
  sftpWorker: 'services/sftp-worker/dist/main.js',
} as const;

export const ADMIN_USER = 'admin';

export interface Embedded {
  url: string;
  process: ServiceHandle;
  dataDir: string;
  adminPassword: string;
  /** A client logged in as the admin. */
  admin: ApiClient;
  stop(): Promise<void>;
}

/** Sallyport in embedded mode: one process, PGlite, in-memory bus, a fresh data directory. */
export async function startEmbedded(env: Record<string, string> = {}): Promise<Embedded> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sallyport-embedded-'));
  const port = await freePort();
  const adminPassword = randomBytes(12).toString('base64url');
  const proc = await spawnService(
    'embedded',
    ENTRY.embedded,
    {
      SALLYPORT_PORT: String(port),
      SALLYPORT_DATA_DIR: dataDir,
      SALLYPORT_ADMIN_USER: ADMIN_USER,
      SALLYPORT_ADMIN_PASSWORD: adminPassword,
      ...env,
    },
    { port, readyLog: /Sallyport is running/ },
  );
  const admin = new ApiClient(`http://127.0.0.1:${port}`);
  await admin.login(ADMIN_USER, adminPassword);
  return {
    url: admin.baseUrl,
    process: proc,
    dataDir,
    adminPassword,
    admin,
    stop: async () => {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Distributed {
  /** The Redis key prefix of this cluster's bus. */
  prefix: string;
  gateways: ServiceHandle[];
  workers: ServiceHandle[];
  recorders: ServiceHandle[];
  /** The recordings directory the gateways and recorders share. */
  recordingDir: string;
  /** Started only when asked for (`sftpWorkers`); gateway i forwards to sftp-worker i mod n. */
  sftpWorkers: ServiceHandle[];
  /** The secret gateways sign sftp-worker requests with. */
  internalSecret: string;
  /** The key every process encrypts stored secrets and recordings under (base64). */
  secretKey: string;
  db: TestDatabase;
  adminPassword: string;
  admin: ApiClient;
  /** Starts one more session worker with the cluster's settings. */
  addWorker(id: string, env?: Record<string, string>): Promise<ServiceHandle>;
  /** Starts one more recorder; `wrap` runs it inside another command (see spawnService). */
  addRecorder(
    id: string,
    options?: { env?: Record<string, string>; wrap?: string[] },
  ): Promise<ServiceHandle>;
  stop(): Promise<void>;
}

export interface DistributedOptions {
  /** Gateway processes. Default 1. */
  gateways?: number;
  /** Session worker processes. Default 2. */
  workers?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Extra environment for the gateways only. */
  gatewayEnv?: Record<string, string>;
  /** Extra environment for the workers only. */
  workerEnv?: Record<string, string>;
  /** Another Redis than the shared test server (the benchmarks run a private one). */
  redisUrl?: string;
  /** Recorders started with the cluster (more with addRecorder). Default 0. */
  recorders?: number;
  /** sftp-workers to start (default none, which keeps clusters that need no Files quick). */
  sftpWorkers?: number;
  sftpWorkerEnv?: Record<string, string>;
}

/**
 * Sallyport in distributed mode: each service its own process, on real PostgreSQL (a fresh
 * database) and real Redis (a unique key prefix).
 */
export async function startDistributed(options: DistributedOptions = {}): Promise<Distributed> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix('sptest');
  const adminPassword = randomBytes(12).toString('base64url');
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const recordingDir = await mkdtemp(path.join(tmpdir(), 'sallyport-recordings-'));
  const internalSecret = randomBytes(32).toString('base64url');
  const shared = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    SALLYPORT_BUS_PREFIX: prefix,
    SALLYPORT_SECRET_KEY: randomBytes(32).toString('base64'),
    SALLYPORT_RECORDING_DIR: recordingDir,
    ...options.env,
    SALLYPORT_INTERNAL_SECRET: internalSecret,
  };
  const sftpWorkers: ServiceHandle[] = [];
  const workers: ServiceHandle[] = [];
  const addWorker = async (id: string, env: Record<string, string> = {}) => {
    const port = await freePort();
    const worker = await spawnService(
      `worker-${id}`,
      ENTRY.worker,
      {
        ...shared,
        SALLYPORT_WORKER_ID: id,
        SALLYPORT_WORKER_HTTP_PORT: String(port),
        ...options.workerEnv,
        ...env,
      },
      { port, readyLog: /session worker ready/ },
    );
    workers.push(worker);
    return worker;
  };
  const recorders: ServiceHandle[] = [];
  const addRecorder = async (
    id: string,
    { env = {}, wrap }: { env?: Record<string, string>; wrap?: string[] } = {},
  ) => {
    const port = await freePort();
    const recorder = await spawnService(
      `recorder-${id}`,
      ENTRY.recorder,
      { ...shared, SALLYPORT_RECORDER_ID: id, SALLYPORT_RECORDER_HTTP_PORT: String(port), ...env },
      { port, readyLog: /recorder ready/, ...(wrap ? { wrap } : {}) },
    );
    recorders.push(recorder);
    return recorder;
  };
  const gateways: ServiceHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all([...gateways, ...workers, ...recorders, ...sftpWorkers].map((p) => p.stop()));
    await cleanupPrefix(prefix, redisUrl);
    await db.drop();
    await rm(recordingDir, { recursive: true, force: true });
  };
  try {
    // The sftp-workers first, so gateways can be told where they are. They share PostgreSQL
    // (and its migration lock) with the gateways, but not Redis.
    for (let i = 0; i < (options.sftpWorkers ?? 0); i++) {
      const port = await freePort();
      sftpWorkers.push(
        await spawnService(
          `sftp-worker-${i}`,
          ENTRY.sftpWorker,
          {
            DATABASE_URL: db.url,
            SALLYPORT_SECRET_KEY: shared.SALLYPORT_SECRET_KEY,
            SALLYPORT_INTERNAL_SECRET: internalSecret,
            SALLYPORT_SFTP_HTTP_PORT: String(port),
            ...options.sftpWorkerEnv,
          },
          { port, readyLog: /sftp-worker listening/ },
        ),
      );
    }
    // Gateways one after another: the first applies migrations and creates the admin.
    for (let i = 0; i < (options.gateways ?? 1); i++) {
      const port = await freePort();
      gateways.push(
        await spawnService(
          `gateway-${i}`,
          ENTRY.gateway,
          {
            ...shared,
            SALLYPORT_PORT: String(port),
            SALLYPORT_ADMIN_USER: ADMIN_USER,
            SALLYPORT_ADMIN_PASSWORD: adminPassword,
            ...(sftpWorkers.length > 0
              ? { SALLYPORT_SFTP_WORKER_URL: sftpWorkers[i % sftpWorkers.length]!.url! }
              : {}),
            ...options.gatewayEnv,
          },
          { port, readyLog: /gateway listening/ },
        ),
      );
    }
    await Promise.all(
      Array.from({ length: options.workers ?? 2 }, (_, i) => addWorker(`worker-${i + 1}`)),
    );
    for (let i = 0; i < (options.recorders ?? 0); i++) await addRecorder(`recorder-${i + 1}`);
  } catch (err) {
    // A service that failed to start must not leave the others running.
    await stop().catch(() => undefined);
    throw err;
  }
  const admin = new ApiClient(gateways[0]!.url!);
  await admin.login(ADMIN_USER, adminPassword).catch(async (err: unknown) => {
    await stop().catch(() => undefined);
    throw err;
  });
  return {
    prefix,
    gateways,
    workers,
    recorders,
    recordingDir,
    sftpWorkers,
    internalSecret,
    secretKey: shared.SALLYPORT_SECRET_KEY,
    db,
    adminPassword,
    admin,
    addWorker,
    addRecorder,
    stop,
  };
}
