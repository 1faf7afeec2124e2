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
  gateways: ServiceHandle[];
  workers: ServiceHandle[];
  db: TestDatabase;
  adminPassword: string;
  admin: ApiClient;
  /** Starts one more session worker with the cluster's settings. */
  addWorker(id: string, env?: Record<string, string>): Promise<ServiceHandle>;
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
  const shared = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    SALLYPORT_BUS_PREFIX: prefix,
    SALLYPORT_SECRET_KEY: randomBytes(32).toString('base64'),
    ...options.env,
  };
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
  const gateways: ServiceHandle[] = [];
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
          ...options.gatewayEnv,
        },
        { port, readyLog: /gateway listening/ },
      ),
    );
  }
  await Promise.all(
    Array.from({ length: options.workers ?? 2 }, (_, i) => addWorker(`worker-${i + 1}`)),
  );
  const admin = new ApiClient(gateways[0]!.url!);
  await admin.login(ADMIN_USER, adminPassword);
  return {
    gateways,
    workers,
    db,
    adminPassword,
    admin,
    addWorker,
    stop: async () => {
      await Promise.all([...gateways, ...workers].map((p) => p.stop()));
      await cleanupPrefix(prefix, redisUrl);
      await db.drop();
    },
  };
}
