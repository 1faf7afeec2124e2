// The two databases Sallyport runs on, for integration tests that must pass on both: a
// throw-away PostgreSQL database, and PGlite in memory.
import { openDatabase, type Database, type DatabaseTarget, type Server } from '@sallyport/db';
import { createTestDatabase } from './postgres.js';

export interface DatabaseKind {
  name: 'postgres' | 'pglite';
  /** A new, migrated database; `close` closes and drops it. */
  open(): Promise<{ db: Database; close: () => Promise<void> }>;
}

async function openTarget(target: DatabaseTarget, drop: () => Promise<void>) {
  const db = await openDatabase(target);
  return {
    db,
    close: async () => {
      try {
        await db.close();
      } finally {
        await drop();
      }
    },
  };
}

export const databaseKinds: DatabaseKind[] = [
  {
    name: 'postgres',
    async open() {
      const created = await createTestDatabase();
      return openTarget({ kind: 'postgres', url: created.url }, () => created.drop());
    },
  },
  {
    name: 'pglite',
    open: () => openTarget({ kind: 'pglite', dataDir: 'memory://' }, async () => {}),
  },
];

/** A registered server with placeholder credentials, for rows that need one to point at. */
export function createServerRow(prisma: Database['prisma'], name: string): Promise<Server> {
  return prisma.server.create({
    data: { name, host: name, username: 'u', authType: 'password', secretEncrypted: 's' },
  });
}
