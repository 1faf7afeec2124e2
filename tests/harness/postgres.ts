// A throw-away PostgreSQL database per test (file), so tests never share tables or rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the tests use; overridable for a developer whose Postgres lives elsewhere. */
export const POSTGRES_ADMIN_URL =
  process.env.SALLYPORT_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  name: string;
  /** Terminates every connection to the database and drops it. Idempotent. */
  drop(): Promise<void>;
}

/** Runs `fn` with a short-lived connection to the admin database. */
export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: POSTGRES_ADMIN_URL,
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a uniquely named empty database (sptest_<time>_<random>) on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  // Lower-case letters, digits and underscores only, so the name never needs quoting rules.
  const name = `sptest_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    drop() {
      // WITH (FORCE) (PostgreSQL 13+) terminates the connections a test left open (a pool not
      // closed, a killed service), which would otherwise make DROP DATABASE fail.
      dropped ??= withAdminClient(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
      return dropped;
    },
  };
}
