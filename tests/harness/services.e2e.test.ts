// Self-test of the non-SSH helpers: a database that can be dropped while still in use, Redis
// prefix cleanup that leaves other keys alone, and a spawned service observed through its logs
// and started with the allocator settings that `npm start` and the README give.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './postgres.js';
import { MALLOC_TUNABLES, freePort, spawnService, waitFor } from './processes.js';
import { REDIS_URL, cleanupPrefix, uniquePrefix } from './redis.js';

describe('createTestDatabase', () => {
  it('creates an empty database and drops it despite an open connection', async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    client.on('error', () => undefined); // the forced drop terminates this connection
    await client.connect();
    const { rows } = await client.query<{ name: string }>('SELECT current_database() AS name');
    expect(rows[0]?.name).toBe(db.name);
    await db.drop();
    await db.drop();
    await expect(client.query('SELECT 1')).rejects.toThrow();
  });
});

describe('cleanupPrefix', () => {
  it('deletes only the keys under the prefix', async () => {
    const mine = uniquePrefix();
    const other = uniquePrefix();
    const redis = new Redis(REDIS_URL);
    try {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 2500; i++) pipeline.set(`${mine}${i}`, 'x');
      await pipeline.exec();
      await redis.set(`${other}keep`, 'x');
      await expect(cleanupPrefix(mine)).resolves.toBe(2500);
      expect(await redis.exists(`${mine}0`, `${other}keep`)).toBe(1);
    } finally {
      await cleanupPrefix(other);
      await redis.quit();
    }
  });
});

describe('spawnService', () => {
  it('waits for the port, reads JSON logs, and stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sallyport-svc-'));
    const entry = join(dir, 'service.mjs');
    await writeFile(
      entry,
      `import http from 'node:http';
       const server = http.createServer((_, res) => res.end('hi'));
       server.listen(Number(process.env.PORT), '127.0.0.1', () =>
         console.log(JSON.stringify({ level: 30, msg: 'listening', port: server.address().port })));
       process.on('SIGTERM', () => { console.log(JSON.stringify({ msg: 'bye' })); process.exit(0); });`,
    );
    const port = await freePort();
    const service = await spawnService('toy', entry, { PORT: String(port) }, { port });
    try {
      expect(service.url).toBe(`http://127.0.0.1:${port}`);
      await expect(fetch(service.url ?? '').then((r) => r.text())).resolves.toBe('hi');
      await expect(service.waitForLog(/"msg":"listening"/)).resolves.toContain(String(port));
      expect(service.jsonLogs()).toContainEqual(expect.objectContaining({ msg: 'listening' }));
      await expect(service.stop()).resolves.toEqual({ code: 0, signal: null });
      expect(service.logs()).toContain('"bye"');
      await expect(service.waitForLog(/never/, 5_000)).rejects.toThrow(/exited/);
      await expect(
        waitFor(() => false, { timeoutMs: 100, description: 'nothing' }),
      ).rejects.toThrow(/waiting for nothing/);
    } finally {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the allocator settings', () => {
  it('are the ones npm start and the README give, and reach a spawned service', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toContain(`GLIBC_TUNABLES=\${GLIBC_TUNABLES:-${MALLOC_TUNABLES}}`);
    expect(await readFile('README.md', 'utf8')).toContain(
      `export GLIBC_TUNABLES=${MALLOC_TUNABLES}\n`,
    );

    const dir = await mkdtemp(join(tmpdir(), 'sallyport-svc-'));
    const entry = join(dir, 'service.mjs');
    await writeFile(entry, `console.log('tunables ' + process.env.GLIBC_TUNABLES);`);
    const service = await spawnService('toy', entry, {});
    try {
      await expect(service.exited).resolves.toEqual({ code: 0, signal: null });
      expect(service.logs()).toBe(`tunables ${MALLOC_TUNABLES}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
