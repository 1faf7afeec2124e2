import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Receives one human-readable line per migration step. */
export type MigrationLog = (message: string) => void;

/**
 * One database session that migrations run on. It must be a single session (not a pool):
 * the advisory lock is session-level and BEGIN/COMMIT must reach the same backend.
 */
export interface MigrationExecutor {
  /** Runs one parameterised statement and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters. */
  exec(script: string): Promise<void>;
}

/** What `applyMigrations` did. */
export interface MigrationResult {
  /** Names of the migrations applied by this call, in order. */
  applied: string[];
}

// The key Prisma's own schema engine locks during `migrate deploy`, so our start-up and a real
// `prisma migrate deploy` run against the same database also exclude each other.
const MIGRATE_LOCK_KEY = 72707369;

// Prisma's `_prisma_migrations` layout, column for column, so `prisma migrate status/deploy`
// on a machine with the engine reads our bookkeeping as its own.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"            VARCHAR(64) NOT NULL,
    "finished_at"         TIMESTAMPTZ,
    "migration_name"      VARCHAR(255) NOT NULL,
    "logs"                TEXT,
    "rolled_back_at"      TIMESTAMPTZ,
    "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
);`;

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

/**
 * Finds the repository's `prisma/migrations` by walking up from this module, so it works from
 * src/ (tests, tsx), dist/ (tsc output) and from a bundle placed elsewhere in the repository.
 */
export function findMigrationsDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(join(candidate, 'migration_lock.toml'))) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(
        `prisma/migrations not found above ${from}; pass migrationsDir to openDatabase() ` +
          'to say where the migration files are',
      );
    }
  }
}

/** sha256 hex of the file's bytes: the checksum Prisma stores in `_prisma_migrations`. */
export function migrationChecksum(contents: Buffer | string): string {
  return createHash('sha256').update(contents).digest('hex');
}

/** Reads `<dir>/<name>/migration.sql` for every migration directory, in name order. */
export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  // Prisma orders by directory name; a plain code-unit comparison keeps that independent of
  // the process locale.
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const files: MigrationFile[] = [];
  for (const name of names) {
    const path = join(migrationsDir, name, 'migration.sql');
    if (!existsSync(path)) throw new Error(`migration directory ${name} has no migration.sql`);
    const bytes = await readFile(path);
    files.push({ name, sql: bytes.toString('utf8'), checksum: migrationChecksum(bytes) });
  }
  return files;
}

/**
 * Applies every migration in `migrationsDir` that the database has not recorded yet, in name
 * order, each in its own transaction, recording it in `_prisma_migrations` as Prisma does.
 * Safe to call from several processes at once: they queue on an advisory lock and the later
 * ones find nothing to do. Refuses to run when an applied migration's file has changed.
 */
export async function applyMigrations(
  executor: MigrationExecutor,
  migrationsDir: string,
  log: MigrationLog = () => {},
): Promise<MigrationResult> {
  const files = await readMigrations(migrationsDir);
  await executor.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK_KEY]);
  try {
    await executor.exec(CREATE_MIGRATIONS_TABLE);
    // Read the history only after taking the lock, so a replica that waited sees what the
    // one before it applied.
    const rows = await executor.query<MigrationRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const pending = pendingMigrations(files, rows, log);
    for (const file of pending) await applyOne(executor, file, log);
    return { applied: pending.map((f) => f.name) };
  } finally {
    // Callers end the session afterwards, which releases the lock anyway; a failed unlock
    // must not hide the outcome of the migrations themselves.
    await executor.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY]).catch(() => {});
  }
}

/** Checks the recorded history against the files and returns the files still to apply. */
function pendingMigrations(
  files: MigrationFile[],
  rows: MigrationRow[],
  log: MigrationLog,
): MigrationFile[] {
  // Rows marked rolled back (by `prisma migrate resolve --rolled-back`) no longer count.
  const live = rows.filter((r) => r.rolled_back_at === null);
  const failed = live.find((r) => r.finished_at === null);
  if (failed) {
    throw new Error(
      `migration ${failed.migration_name} started earlier but never finished; inspect the ` +
        'database, then run `prisma migrate resolve --applied` or `--rolled-back` for it',
    );
  }
  const applied = new Map(live.map((r) => [r.migration_name, r.checksum]));
  for (const file of files) {
    const recorded = applied.get(file.name);
    if (recorded !== undefined && recorded !== file.checksum) {
      throw new Error(
        `migration ${file.name} was modified after it was applied (checksum in database ` +
          `${recorded}, file ${file.checksum}); restore the original file and put changes ` +
          'in a new migration',
      );
    }
  }
  const known = new Set(files.map((f) => f.name));
  for (const name of applied.keys()) {
    // A newer replica may have applied a migration this one does not ship yet (rolling
    // upgrade); that is not a reason to refuse to start.
    if (!known.has(name)) log(`migration ${name} is applied but not among the files; ignoring`);
  }
  return files.filter((f) => !applied.has(f.name));
}

async function applyOne(
  executor: MigrationExecutor,
  file: MigrationFile,
  log: MigrationLog,
): Promise<void> {
  log(`applying migration ${file.name}`);
  await executor.exec('BEGIN');
  try {
    await executor.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) ' +
        'VALUES ($1, $2, $3, clock_timestamp(), 0)',
      [randomUUID(), file.checksum, file.name],
    );
    await executor.exec(file.sql);
    await executor.query(
      'UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 ' +
        'WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL',
      [file.name],
    );
    await executor.exec('COMMIT');
  } catch (error) {
    // The whole migration and its bookkeeping row roll back together, so nothing is left
    // half-applied and the next start simply tries again (unlike Prisma, which leaves a
    // failed row that needs `migrate resolve`).
    await executor.exec('ROLLBACK').catch(() => {}); // a dead session has rolled back already
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${file.name} failed and was rolled back: ${reason}`, {
      cause: error,
    });
  }
  log(`applied migration ${file.name}`);
}
