import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { readFileSync } from 'node:fs';
import { PrismaClient } from '../src/generated/prisma/client.js';

const db = new PGlite('memory://');
await db.exec(readFileSync('../../prisma/migrations/20261122000000_init/migration.sql', 'utf8'));
const prisma = new PrismaClient({ adapter: new PrismaPGlite(db as any) });
const u = await prisma.user.create({ data: { username: 'a' } });
console.log(u);
try { await prisma.user.create({ data: { username: 'a' } }); } catch (e: any) { console.log('dup:', e.constructor.name, e.code, e.message.slice(0, 200)); }
const s = await prisma.terminalSession.create({ data: { userId: u.id, cols: 80, rows: 24, bytesIn: 2n ** 60n } });
console.log(s.bytesIn, typeof s.bytesIn);
const srv = await prisma.server.create({ data: { name: 'x', host: 'h', username: 'u', authType: 'key', secretEncrypted: 's', tags: ['a', 'b,c', 'd"e'] } });
console.log(srv.tags);
// interactive tx + rollback
try {
  await prisma.$transaction(async (tx) => {
    await tx.user.create({ data: { username: 'b' } });
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(42)`;
    throw new Error('boom');
  });
} catch (e: any) { console.log('tx err', e.message); }
console.log('b exists?', await prisma.user.count({ where: { username: 'b' } }));
const r = await prisma.$transaction(async (tx) => {
  await tx.user.create({ data: { username: 'c' } });
  return tx.user.count();
});
console.log('count in tx', r, await prisma.user.count());
// parallel txs
await Promise.all(Array.from({ length: 20 }, (_, i) => prisma.$transaction(async (tx) => {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(7)`;
  const n = await tx.user.count();
  await tx.user.create({ data: { username: `p${i}-${n}` } });
})));
console.log('after parallel', await prisma.user.count());
const raw = await prisma.$queryRaw<{ one: number }[]>`SELECT 1 as one`;
console.log(raw);
const a = await prisma.auditEvent.create({ data: { actorName: 'x', action: 'y', prevHash: '', hash: 'h', details: { a: 1, b: [1, 2], c: { d: null } } } });
console.log(a);
try { await prisma.auditEvent.update({ where: { seq: a.seq }, data: { action: 'z' } }); } catch (e: any) { console.log('upd:', e.constructor.name, e.code, e.message.slice(-300)); }
await prisma.$disconnect();
await db.close();
