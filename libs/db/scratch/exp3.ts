import { openDatabase } from '../src/index.js';
const db = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
const t0 = Date.now();
try {
  await db.prisma.$transaction(async (tx) => {
    await tx.user.create({ data: { username: 'x' } });
    const n = await db.prisma.user.count(); // outside the transaction
    console.log('outer count inside tx', n);
  }, { timeout: 3000 });
} catch (e: any) { console.log('failed after', Date.now() - t0, 'ms:', e.message.split('\n').slice(-2).join(' ')); }
console.log('after', await db.prisma.user.count());
// ping during a slow tx
await db.close();
await db.close();
console.log('closed');
