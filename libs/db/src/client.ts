import { PGlite } from '@electric-sql/pglite';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { pgExecutor, pgliteExecutor } from './executors.js';
import { PrismaClient } from './generated/prisma/client.js';
import { applyMigrations, findMigrationsDir, type MigrationLog } from './migrate.js';

/** Where the data lives: a PostgreSQL server (distributed mode) or a PGlite directory (embedded). */
export type DatabaseTarget =
  | {
      kind: 'postgres';
      /** postgresql:// connection URL (DATABASE_URL). */
      url: string;
    }
  | {
      kind: 'pglite';
      /** Directory PGlite keeps its files in, created if missing; `memory://` for tests. */
      dataDir: string;
    };

/** Options for `openDatabase`. */
export type DatabaseOptions = DatabaseTarget & {
  /** Directory of `<timestamp>_<name>/migration.sql`. Default: the repository's prisma/migrations. */
  migrationsDir?: string;
  /** Receives migration progress and background pool errors. Default: discarded. */
  log?: MigrationLog;
};

/** An open, migrated database. */
export interface Database {
  /** The Prisma client every query goes through. */
  readonly prisma: PrismaClient;
  /** Runs `SELECT 1`; rejects when the database does not answer. What /readyz calls. */
  ping(): Promise<void>;
  /** Disconnects Prisma and the driver. Idempotent; runs every step even if one fails. */
  close(): Promise<void>;
}

/**
 * Connects to PostgreSQL or opens PGlite, applies pending migrations, and returns the Prisma
 * client. Fails (and releases everything it opened) if the migrations cannot be applied.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const migrationsDir = options.migrationsDir ?? findMigrationsDir();
  const log = options.log ?? (() => {});
  switch (options.kind) {
    case 'postgres':
      return openPostgres(options.url, migrationsDir, log);
    case 'pglite':
      return openPglite(options.dataDir, migrationsDir, log);
  }
}

async function openPostgres(
  url: string,
  migrationsDir: string,
  log: MigrationLog,
): Promise<Database> {
  // Migrations get a connection of their own, ended afterwards: ending the session is what
  // guarantees the advisory lock is released whatever happened.
  const connectionString = withUtcSessions(url);
  const migrationClient = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  // A dropped connection also rejects the query in flight, which is what reports it; the
  // listener only keeps the 'error' event from crashing the process.
  migrationClient.on('error', (error) => log(`migration connection failed: ${error.message}`));
  await migrationClient.connect();
  try {
    await applyMigrations(pgExecutor(migrationClient), migrationsDir, log);
  } finally {
    await migrationClient.end();
  }

  // Without a listener, an idle client dropped by the server (restart, failover) emits an
  // 'error' event that would crash the process; the pool replaces the client on next use.
  const pool = new pg.Pool({
    connectionString,
    connectionTimeoutMillis: 10_000,
    // pg closes a connection after 10 s idle by default; opening one again costs several ms
    // on the next request's path (a session open makes a few queries at once), which a quiet
    // replica would pay on nearly every open.
    idleTimeoutMillis: IDLE_CONNECTION_MS,
  });
  pool.on('error', (error) => log(`idle database connection failed: ${error.message}`));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return database(prisma, [() => prisma.$disconnect(), () => pool.end()]);
}

const IDLE_CONNECTION_MS = 5 * 60_000;

async function openPglite(
  dataDir: string,
  migrationsDir: string,
  log: MigrationLog,
): Promise<Database> {
  // PGlite creates the directory itself but not its parents (./data on a fresh machine).
  if (!dataDir.includes('://')) await mkdir(dirname(dataDir), { recursive: true });
  const db = await PGlite.create({ dataDir });
  try {
    // PGlite is one session, so this covers every query (see withUtcSessions for why).
    await db.exec("SET TIME ZONE 'UTC'");
    await applyMigrations(pgliteExecutor(db), migrationsDir, log);
  } catch (error) {
    await db.close();
    throw error;
  }
  const adapter = new PrismaPGlite(db);
  const prisma = new PrismaClient({ adapter });
  return database(prisma, [() => prisma.$disconnect(), () => db.close()]);
}

/**
 * Adds `-c TimeZone=UTC` to the connection's startup options. Both driver adapters send
 * DateTime values as UTC wall-clock text without an offset and, reading timestamptz, replace
 * the offset with +00:00. In any other session time zone every instant Prisma writes would be
 * stored shifted by the offset (and SQL `now()` comparisons would be hours off).
 */
export function withUtcSessions(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL may hold a password, so it is not repeated in the message.
    throw new Error('the PostgreSQL url is not a valid postgresql:// URL');
  }
  const options = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c TimeZone=UTC`);
  return parsed.toString();
}

function database(prisma: PrismaClient, cleanups: Array<() => Promise<void>>): Database {
  let closing: Promise<void> | undefined;
  return {
    prisma,
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    close() {
      closing ??= runAll(cleanups);
      return closing;
    },
  };
}

/** Runs every cleanup even when an earlier one fails, then reports all failures together. */
async function runAll(cleanups: Array<() => Promise<void>>): Promise<void> {
  const errors: unknown[] = [];
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'closing the database failed');
}
