import type { PGliteInterface } from '@electric-sql/pglite';
import type { ClientBase } from 'pg';
import type { MigrationExecutor } from './migrate.js';

/** Runs migrations on one node-postgres connection (a `pg.Client` or a checked-out pool client). */
export function pgExecutor(client: ClientBase): MigrationExecutor {
  return {
    async query<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    async exec(script: string): Promise<void> {
      // Without parameters node-postgres uses the simple query protocol, which accepts a
      // script of several statements.
      await client.query(script);
    },
  };
}

/** Runs migrations on a PGlite instance (which is always a single session). */
export function pgliteExecutor(db: PGliteInterface): MigrationExecutor {
  return {
    async query<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
      const result = await db.query<Row>(sql, params);
      return result.rows;
    },
    async exec(script: string): Promise<void> {
      await db.exec(script);
    },
  };
}
