// Vitest globalSetup for the integration and e2e projects: checks that Redis and PostgreSQL
// answer, and starts one sshd shared by the whole run (tests read it with inject('sshd')).
import type { TestProject } from 'vitest/node';
import { Redis } from 'ioredis';
import { POSTGRES_ADMIN_URL, withAdminClient } from './postgres.js';
import { REDIS_URL } from './redis.js';
import { startSshd, type SshdInfo } from './sshd.js';

declare module 'vitest' {
  interface ProvidedContext {
    sshd: SshdInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await Promise.all([checkRedis(), checkPostgres()]);
  const sshd = await startSshd();
  project.provide('sshd', sshd.info());
  return () => sshd.stop();
}

const HINT = 'Run `bash scripts/test-prereqs.sh` (as root) to install and start the test services.';

async function checkRedis(): Promise<void> {
  // No retries: a missing server should fail the run in seconds with a clear message.
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3_000,
  });
  // ioredis reports the socket error (ECONNREFUSED) as an event and rejects with a vaguer
  // "Connection is closed"; keep the former for the message.
  let socketError: unknown;
  redis.on('error', (err) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis does not answer at ${REDIS_URL} (${describe(socketError ?? err)}). ${HINT}`,
      {
        cause: err,
      },
    );
  } finally {
    redis.disconnect();
  }
}

async function checkPostgres(): Promise<void> {
  try {
    await withAdminClient((c) => c.query('SELECT 1'));
  } catch (err) {
    throw new Error(
      `PostgreSQL does not answer at ${POSTGRES_ADMIN_URL} (${describe(err)}). ${HINT}`,
      {
        cause: err,
      },
    );
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
