import { PGlite as PGlite4 } from '../../../node_modules/@electric-sql/pglite/dist/index.js';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { PrismaClient } from '../src/generated/prisma/client.js';
const sql = readFileSync('../../prisma/migrations/20261122000000_init/migration.sql', 'utf8');
{
const db = new PGlite4('memory://');
await db.exec(sql);
const prisma = new PrismaClient({ adapter: new PrismaPGlite(db as any) });
await prisma.user.create({ data: { username: 'a' } });
try { await prisma.user.create({ data: { username: 'a' } }); } catch (e: any) { console.log('pglite 0.4 dup:', e.constructor.name, e.code, e.meta); }
await prisma.$disconnect(); await db.close();
}
const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query('DROP DATABASE IF EXISTS sp_scratch'); await admin.query('CREATE DATABASE sp_scratch');
const pool = new pg.Pool({ connectionString: 'postgresql://postgres@127.0.0.1:5432/sp_scratch' });
await pool.query(sql);
const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
await prisma.user.create({ data: { username: 'a' } });
try { await prisma.user.create({ data: { username: 'a' } }); } catch (e: any) { console.log('pg dup:', e.constructor.name, e.code, e.meta); }
const a = await prisma.auditEvent.create({ data: { actorName: 'x', action: 'y', prevHash: '', hash: 'h' } });
try { await prisma.auditEvent.delete({ where: { seq: a.seq } }); } catch (e: any) { console.log('del:', e.constructor.name, e.code, e.meta, e.message.slice(-100)); }
await Promise.all(Array.from({ length: 20 }, (_, i) => prisma.$transaction(async (tx) => {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(7)`;
  const n = await tx.user.count();
  await tx.user.create({ data: { username: `p${i}-${n}` } });
})));
console.log((await prisma.user.findMany()).map(u => u.username).sort().join(' '));
await prisma.$disconnect();
console.log('pool ended?', (pool as any).ending);
await pool.end();
await admin.query('DROP DATABASE sp_scratch'); await admin.end();
