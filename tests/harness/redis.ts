// Per-test Redis key prefixes on the shared server, and their cleanup.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The server the tests use; overridable for a developer whose Redis lives elsewhere. */
export const REDIS_URL = process.env.SALLYPORT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test uses, e.g. "sptest:3f9a0c1d2e4b:". */
export function uniquePrefix(label = 'sptest'): string {
  return `${label}:${randomBytes(6).toString('hex')}:`;
}

/**
 * Deletes every key starting with `prefix`. SCAN rather than KEYS, so a large keyspace never
 * blocks the server that other test files are using at the same time.
 */
export async function cleanupPrefix(prefix: string, url = REDIS_URL): Promise<number> {
  if (prefix.length === 0) throw new Error('cleanupPrefix needs a non-empty prefix');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    // Escape glob characters so the prefix is matched literally.
    const match = prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    await redis.quit();
  }
}
