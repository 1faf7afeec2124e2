import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { applyMigrations, findMigrationsDir, pgExecutor } from '../src/index.js';
const g = await PGlite.create('memory://');
console.log('pglite tz', (await g.query('SHOW TimeZone')).rows);
await g.close();
const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
console.log('server tz', (await admin.query('SHOW TimeZone')).rows);
await admin.query('DROP DATABASE IF EXISTS sp_scratch_tz'); await admin.query('CREATE DATABASE sp_scratch_tz');
await admin.query(`ALTER DATABASE sp_scratch_tz SET TimeZone = 'America/New_York'`);
const url = 'postgresql://postgres@127.0.0.1:5432/sp_scratch_tz';
const c = new pg.Client({ connectionString: url }); await c.connect();
await applyMigrations(pgExecutor(c), findMigrationsDir()); await c.end();
for (const options of [undefined, '-c TimeZone=UTC']) {
  const pool = new pg.Pool({ connectionString: url, ...(options ? { options } : {}) });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const before = Date.now();
  const u = await prisma.user.create({ data: { username: 'tz' + (options ? 1 : 0) } });
  const [{ epoch }] = await prisma.$queryRaw<[{ epoch: string }]>`SELECT extract(epoch from created_at)::text AS epoch FROM users WHERE id = ${u.id}::uuid`;
  const s = await prisma.setupToken.create({ data: { tokenHash: 't' + (options ? 1 : 0), expiresAt: new Date('2030-01-01T00:00:00Z') } });
  const [{ e2 }] = await prisma.$queryRaw<[{ e2: string }]>`SELECT extract(epoch from expires_at)::text AS e2 FROM setup_tokens WHERE id = ${s.id}::uuid`;
  console.log(options ?? 'default', 'createdAt - now (s):', (u.createdAt.getTime() - before) / 1000, 'db epoch - js:', Number(epoch) - u.createdAt.getTime() / 1000, 'expiresAt stored epoch:', new Date(Number(e2) * 1000).toISOString(), 'read', s.expiresAt.toISOString());
  await prisma.$disconnect(); await pool.end();
}
await admin.query('DROP DATABASE sp_scratch_tz WITH (FORCE)'); await admin.end();
