import { readdirSync } from 'node:fs';
// One suite, run against real PostgreSQL (a fresh database per test) and PGlite: migrations
// and their Prisma bookkeeping, time zones, the client's lifecycle and the audit chain.
// models.int.test.ts covers the schema itself.
import { PGlite } from '@electric-sql/pglite';
import { createHash, randomUUID } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../tests/harness/postgres.js';
import {
  applyMigrations,
  appendAuditEvent,
  findMigrationsDir,
  openDatabase,
  pgExecutor,
  pgliteExecutor,
  verifyAuditChain,
  type DatabaseTarget,
  type MigrationExecutor,
} from './index.js';

const INIT = '20261122000000_init';
const migrationsDir = findMigrationsDir();
/** Every migration in the repository, in the order they apply. */
const ALL = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

/** A place a database can live, created fresh for each use. */
interface Target {
  name: 'postgres' | 'pglite';
  /** A new empty database; `reopenable` asks for one that survives close (a directory for PGlite). */
  create(reopenable?: boolean): Promise<{ target: DatabaseTarget; drop: () => Promise<void> }>;
  /** One raw session on a target, for driving applyMigrations directly. */
  session(target: DatabaseTarget): Promise<{ executor: MigrationExecutor; end(): Promise<void> }>;
}

const postgres: Target = {
  name: 'postgres',
  async create() {
    const db: TestDatabase = await createTestDatabase();
    return { target: { kind: 'postgres', url: db.url }, drop: () => db.drop() };
  },
  async session(target) {
    if (target.kind !== 'postgres') throw new Error('not a postgres target');
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    return { executor: pgExecutor(client), end: () => client.end() };
  },
};

const pglite: Target = {
  name: 'pglite',
  async create(reopenable = false) {
    if (!reopenable)
      return { target: { kind: 'pglite', dataDir: 'memory://' }, drop: async () => {} };
    const dir = await mkdtemp(join(tmpdir(), 'sp-pglite-'));
    return {
      target: { kind: 'pglite', dataDir: join(dir, 'nested', 'db') },
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  },
  async session(target) {
    if (target.kind !== 'pglite') throw new Error('not a pglite target');
    await mkdir(dirname(target.dataDir), { recursive: true });
    const db = await PGlite.create({ dataDir: target.dataDir });
    return { executor: pgliteExecutor(db), end: () => db.close() };
  },
};

/** Cleanups registered by a test, run after it whether it passed or not. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fresh(t: Target, reopenable = false): Promise<DatabaseTarget> {
  const { target, drop } = await t.create(reopenable);
  cleanups.push(drop);
  return target;
}

async function open(target: DatabaseTarget, dir = migrationsDir, log?: (m: string) => void) {
  const db = await openDatabase({ ...target, migrationsDir: dir, ...(log ? { log } : {}) });
  cleanups.push(() => db.close());
  return db;
}

describe.each([postgres, pglite])('@sallyport/db on $name', (t) => {
  describe('migrations', () => {
    it('applies the init migration and records it as Prisma does', async () => {
      const lines: string[] = [];
      const db = await open(await fresh(t), migrationsDir, (m) => lines.push(m));
      expect(lines).toContain(`applying migration ${INIT}`);

      const rows = await db.prisma.$queryRaw<
        Array<{
          migration_name: string;
          checksum: string;
          finished_at: Date | null;
          rolled_back_at: Date | null;
          applied_steps_count: number;
          logs: string | null;
          id: string;
        }>
      >`SELECT * FROM "_prisma_migrations"`;
      const file = await readFile(join(migrationsDir, INIT, 'migration.sql'));
      expect(rows.map((r) => r.migration_name).sort()).toEqual(ALL);
      const init = rows.find((r) => r.migration_name === INIT);
      expect(init).toMatchObject({
        migration_name: INIT,
        checksum: createHash('sha256').update(file).digest('hex'),
        rolled_back_at: null,
        applied_steps_count: 1,
        logs: null,
      });
      expect(init?.finished_at).toBeInstanceOf(Date);
      expect(init?.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('does nothing when applied twice, and keeps the data when reopened', async () => {
      const target = await fresh(t, true);
      const first = await t.session(target);
      try {
        expect(await applyMigrations(first.executor, migrationsDir)).toEqual({ applied: ALL });
        expect(await applyMigrations(first.executor, migrationsDir)).toEqual({ applied: [] });
      } finally {
        await first.end();
      }

      const lines: string[] = [];
      const db = await openDatabase({ ...target, log: (m) => lines.push(m) });
      try {
        await db.prisma.user.create({ data: { username: 'kept' } });
        const [{ n }] = await db.prisma.$queryRaw<
          [{ n: bigint }]
        >`SELECT count(*) AS n FROM "_prisma_migrations"`;
        expect(n).toBe(BigInt(ALL.length));
        expect(lines).toEqual([]);
      } finally {
        await db.close();
      }
      const again = await openDatabase(target);
      try {
        expect(await again.prisma.user.count({ where: { username: 'kept' } })).toBe(1);
      } finally {
        await again.close();
      }
    });

    it('refuses to start when an applied migration file was edited', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sp-migrations-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      await cp(migrationsDir, dir, { recursive: true });
      const target = await fresh(t, true);
      await (await openDatabase({ ...target, migrationsDir: dir })).close();

      await appendFile(join(dir, INIT, 'migration.sql'), '\n-- edited after the fact\n');
      await expect(openDatabase({ ...target, migrationsDir: dir })).rejects.toThrow(
        new RegExp(`migration ${INIT} was modified after it was applied`),
      );
    });

    it('rolls back a failing migration entirely and reports which one failed', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sp-migrations-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      await cp(migrationsDir, dir, { recursive: true });
      await cp(join(dir, INIT), join(dir, '20991231000000_broken'), { recursive: true });
      const target = await fresh(t, true);
      await expect(openDatabase({ ...target, migrationsDir: dir })).rejects.toThrow(
        /migration 20991231000000_broken failed and was rolled back: .*already exists/,
      );
      // The real migrations committed on their own; the broken one left no row behind.
      const s = await t.session(target);
      try {
        const rows = await s.executor.query<{ migration_name: string }>(
          'SELECT migration_name FROM "_prisma_migrations"',
        );
        expect(rows.map((r) => r.migration_name).sort()).toEqual(ALL);
      } finally {
        await s.end();
      }
    });
  });

  describe('time zones', () => {
    it('stores true instants even when the database default TimeZone is not UTC', async () => {
      const target = await fresh(t, true);
      const s = await t.session(target);
      try {
        const [row] = await s.executor.query<{ name: string }>('SELECT current_database() AS name');
        await s.executor.exec(`ALTER DATABASE "${row?.name}" SET TimeZone = 'America/New_York'`);
      } finally {
        await s.end();
      }
      const db = await open(target);
      const expiresAt = new Date('2030-01-01T00:00:00.250Z');
      const token = await db.prisma.setupToken.create({ data: { tokenHash: 'tz', expiresAt } });
      const [stored] = await db.prisma.$queryRaw<
        Array<{ expires: bigint; created: bigint; now: bigint }>
      >`
        SELECT (extract(epoch FROM expires_at) * 1000)::bigint AS expires,
               (extract(epoch FROM created_at) * 1000)::bigint AS created,
               (extract(epoch FROM now()) * 1000)::bigint AS now
        FROM setup_tokens`;
      expect(stored?.expires).toBe(BigInt(expiresAt.getTime()));
      expect(stored?.created).toBe(BigInt(token.createdAt.getTime()));
      expect(Math.abs(Number(stored?.now) - Date.now())).toBeLessThan(60_000);
      expect(token.expiresAt).toEqual(expiresAt);
    });
  });

  describe('lifecycle', () => {
    it('answers ping, and close is idempotent', async () => {
      const db = await open(await fresh(t));
      await expect(db.ping()).resolves.toBeUndefined();
      await db.close();
      await expect(db.close()).resolves.toBeUndefined();
    });
  });

  describe('audit log', () => {
    it('links each event to the one before and verifies the chain', async () => {
      const db = await open(await fresh(t));
      const actor = randomUUID();
      const first = await appendAuditEvent(db.prisma, {
        actorName: 'system',
        action: 'setup.completed',
      });
      const second = await appendAuditEvent(db.prisma, {
        actorId: actor,
        actorName: 'alice',
        action: 'server.created',
        targetType: 'server',
        targetId: 'srv-1',
        serverId: randomUUID(),
        sessionId: randomUUID(),
        ip: '203.0.113.9',
        details: {
          name: 'db-1',
          // Hashed as UTF-8 by the database and by verifyAuditChain alike.
          note: 'Grüße aus 東京 🚀',
          tags: ['prod'],
          nested: { b: 1, a: [true, null] },
          skipped: undefined,
        },
      });
      const third = await appendAuditEvent(db.prisma, {
        actorName: 'alice',
        action: 'session.opened',
      });

      expect(first.prevHash).toBe('');
      expect(second.prevHash).toBe(first.hash);
      expect(third.prevHash).toBe(second.hash);
      expect(second.details).toEqual({
        name: 'db-1',
        note: 'Grüße aus 東京 🚀',
        tags: ['prod'],
        nested: { b: 1, a: [true, null] },
      });
      expect(first.details).toBeNull();
      const stored = await db.prisma.auditEvent.findUniqueOrThrow({ where: { seq: second.seq } });
      expect(stored).toEqual(second);
      await expect(verifyAuditChain(db.prisma)).resolves.toEqual({ ok: true, count: 3 });
    });

    it('keeps the chain whole for UUIDs given in capitals, as the database stores them', async () => {
      const db = await open(await fresh(t));
      const [actor, server, session] = [randomUUID(), randomUUID(), randomUUID()];
      const event = await appendAuditEvent(db.prisma, {
        actorId: actor.toUpperCase(),
        actorName: 'alice',
        action: 'session.start',
        serverId: server.toUpperCase(),
        sessionId: session.toUpperCase(),
      });
      expect(event).toMatchObject({ actorId: actor, serverId: server, sessionId: session });
      await expect(verifyAuditChain(db.prisma)).resolves.toEqual({ ok: true, count: 1 });
    });

    it('refuses UPDATE, DELETE and TRUNCATE on audit_events', async () => {
      const db = await open(await fresh(t));
      const event = await appendAuditEvent(db.prisma, { actorName: 'alice', action: 'login' });
      await expect(
        db.prisma.auditEvent.update({ where: { seq: event.seq }, data: { action: 'nothing' } }),
      ).rejects.toThrow(/append-only: UPDATE/);
      await expect(db.prisma.auditEvent.delete({ where: { seq: event.seq } })).rejects.toThrow(
        /append-only: DELETE/,
      );
      await expect(db.prisma.$executeRawUnsafe('DELETE FROM audit_events')).rejects.toThrow(
        /append-only/,
      );
      await expect(db.prisma.$executeRawUnsafe('TRUNCATE audit_events')).rejects.toThrow(
        /append-only: TRUNCATE/,
      );
      expect(await db.prisma.auditEvent.count()).toBe(1);
    });

    it('detects an edited and a deleted event', async () => {
      const db = await open(await fresh(t));
      const events = [];
      for (const action of ['a', 'b', 'c', 'd']) {
        events.push(await appendAuditEvent(db.prisma, { actorName: 'alice', action }));
      }
      const [, second, third] = events;
      if (!second || !third) throw new Error('unreachable');
      // Tampering needs the trigger out of the way, as an attacker with DDL rights would do.
      const bypassTrigger = async (sql: string) => {
        await db.prisma.$executeRawUnsafe(
          'ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only',
        );
        await db.prisma.$executeRawUnsafe(sql);
        await db.prisma.$executeRawUnsafe(
          'ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only',
        );
      };

      await bypassTrigger(`UPDATE audit_events SET action = 'forged' WHERE seq = ${second.seq}`);
      await expect(verifyAuditChain(db.prisma)).resolves.toEqual({
        ok: false,
        brokenAtSeq: second.seq,
      });

      await bypassTrigger(`UPDATE audit_events SET action = 'b' WHERE seq = ${second.seq}`);
      await expect(verifyAuditChain(db.prisma)).resolves.toEqual({ ok: true, count: 4 });

      await bypassTrigger(`DELETE FROM audit_events WHERE seq = ${second.seq}`);
      await expect(verifyAuditChain(db.prisma)).resolves.toEqual({
        ok: false,
        brokenAtSeq: third.seq,
      });
    });

    it('keeps one unbroken chain under 20 concurrent appends', async () => {
      const db = await open(await fresh(t));
      const appended = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          appendAuditEvent(db.prisma, { actorName: `w${i}`, action: 'burst' }),
        ),
      );
      await expect(verifyAuditChain(db.prisma)).resolves.toEqual({ ok: true, count: 20 });
      // No fork: every event is the successor of exactly one other.
      expect(new Set(appended.map((e) => e.prevHash)).size).toBe(20);
    });
  });
});

describe('@sallyport/db on postgres, several replicas', () => {
  it('lets two replicas open a fresh database at once and migrates it once', async () => {
    const target = await fresh(postgres);
    const lines: string[] = [];
    const log = (m: string) => lines.push(m);
    const [a, b] = await Promise.all([
      open(target, migrationsDir, log),
      open(target, migrationsDir, log),
    ]);
    await Promise.all([a.ping(), b.ping()]);
    expect(lines.filter((l) => l.startsWith('applying'))).toEqual(
      ALL.map((m) => `applying migration ${m}`),
    );
    const rows = await a.prisma.$queryRaw<
      Array<{ migration_name: string }>
    >`SELECT migration_name FROM "_prisma_migrations"`;
    expect(rows.map((r) => r.migration_name).sort()).toEqual(ALL);
  });

  it('waits for the audit lock, which earlier versions take too', async () => {
    const target = await fresh(postgres);
    const db = await open(target);
    if (target.kind !== 'postgres') throw new Error('not a postgres target');
    const holder = new pg.Client({ connectionString: target.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    // The key ('SPAU') that the transaction of the version before took, and the function takes.
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [0x53504155]);
    let appended = false;
    const appending = appendAuditEvent(db.prisma, { actorName: 'alice', action: 'login' }).then(
      () => (appended = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(appended).toBe(false);
    await holder.query('COMMIT');
    await appending;
    expect(await db.prisma.auditEvent.count()).toBe(1);
  });

  it('serialises audit writers that use separate clients', async () => {
    const target = await fresh(postgres);
    const replicas = await Promise.all([open(target), open(target), open(target)]);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        appendAuditEvent(replicas[i % 3]!.prisma, { actorName: `r${i % 3}`, action: 'burst' }),
      ),
    );
    await expect(verifyAuditChain(replicas[0].prisma)).resolves.toEqual({ ok: true, count: 30 });
  });
});
