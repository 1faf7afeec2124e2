import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, spawnService, waitFor, type ServiceHandle } from './harness/processes.js';
import { createTestDatabase, type TestDatabase } from './harness/postgres.js';
import { startSshd } from './harness/sshd.js';
import { ApiClient } from './support/api.js';
import { metricValue } from './support/metrics.js';
import { startEmbedded } from './support/sallyport.js';
import { sshdServer } from './support/target.js';
import { TerminalClient } from './support/terminal-client.js';

// What an operator meets before any terminal: first start, restart, bad settings, health.

describe('first start of embedded mode', () => {
  let dataDir: string;
  let port: number;
  let proc: ServiceHandle | undefined;
  const start = () =>
    spawnService(
      'embedded',
      'services/embedded/dist/main.js',
      { SALLYPORT_PORT: String(port), SALLYPORT_DATA_DIR: dataDir },
      { port, readyLog: /Sallyport is running/ },
    );

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'sallyport-setup-'));
    port = await freePort();
  });
  afterAll(async () => {
    await proc?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a one-time setup link that creates the first admin, and keeps the data across a restart', async () => {
    proc = await start();
    const line = await proc.waitForLog(/Sallyport setup: http/);
    const link = new URL(line.slice(line.indexOf('http')).trim());
    expect(link.pathname).toBe('/setup');
    const token = link.hash.slice(1);
    expect(token.length).toBeGreaterThanOrEqual(40);
    // The generated secret key is private to the process's user.
    expect((await stat(path.join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);

    const client = new ApiClient(`http://127.0.0.1:${port}`);
    expect((await client.request('GET', '/api/setup')).body).toEqual({ needed: true });
    // There is no default password.
    expect(
      (await client.request('POST', '/api/auth/login', { username: 'admin', password: 'admin' }))
        .status,
    ).toBe(401);
    expect(
      (
        await client.request('POST', '/api/setup', {
          token: 'forged',
          username: 'root-admin',
          password: 'a-long-password-1',
        })
      ).status,
    ).toBe(410);
    const weak = await client.request('POST', '/api/setup', {
      token,
      username: 'root-admin',
      password: 'short',
    });
    expect(weak.status).toBe(400);
    expect(weak.body.error.details.field).toBe('password');

    const created = await client.request('POST', '/api/setup', {
      token,
      username: 'root-admin',
      password: 'a-long-password-1',
    });
    expect(created.status).toBe(201);
    expect((await client.request('GET', '/api/auth/me')).body.user).toMatchObject({
      username: 'root-admin',
      role: 'admin',
    });
    expect(
      (
        await client.request('POST', '/api/setup', {
          token,
          username: 'second',
          password: 'a-long-password-2',
        })
      ).status,
    ).toBe(410);

    await proc.stop();
    proc = await start();
    expect(proc.logs()).not.toMatch(/Sallyport setup:/);
    const again = new ApiClient(`http://127.0.0.1:${port}`);
    await again.login('root-admin', 'a-long-password-1');
    expect((await again.request('GET', '/api/setup')).body).toEqual({ needed: false });
  });
});

describe('a service with bad settings', () => {
  it('refuses to start and names every bad setting', async () => {
    const proc = await spawnService('gateway', 'services/gateway/dist/main.js', {
      SALLYPORT_PORT: 'eighty',
      DATABASE_URL: 'not a url',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(await proc.exited).toEqual({ code: 1, signal: null });
    expect(proc.logs()).toContain('SALLYPORT_PORT: must be a whole number from 0 to 65535');
    expect(proc.logs()).toContain('DATABASE_URL: must be a URL');
  });

  it('names a missing shared secret key in distributed mode', async () => {
    const proc = await spawnService('worker', 'services/session-worker/dist/main.js', {
      DATABASE_URL: 'postgresql://127.0.0.1/none',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(await proc.exited).toEqual({ code: 1, signal: null });
    expect(proc.logs()).toContain('SALLYPORT_SECRET_KEY is required');
  });
});

describe('health endpoints of a worker', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('serves /healthz, /metrics, and a /readyz that names the dependency that does not answer', async () => {
    const port = await freePort();
    const proc = await spawnService(
      'worker',
      'services/session-worker/dist/main.js',
      {
        DATABASE_URL: db.url,
        // Nothing listens on port 1: the bus is down from the start.
        REDIS_URL: 'redis://127.0.0.1:1',
        SALLYPORT_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
        SALLYPORT_WORKER_HTTP_PORT: String(port),
      },
      { port, readyLog: /session worker ready/ },
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: Record<string, string> };
      expect(body.checks.database).toBe('ok');
      expect(body.checks.bus).not.toBe('ok');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('sallyport_worker_sessions_open');
      expect(metrics).toContain('process_resident_memory_bytes');
    } finally {
      await proc.stop();
    }
  });
});

describe('connection attempts', () => {
  it('are limited per user per minute, over HTTP and WebSocket', async () => {
    const sp = await startEmbedded({ SALLYPORT_CONNECTS_PER_MINUTE: '2' });
    try {
      const server = await sp.admin.createServer(sshdServer(inject('sshd')));
      expect((await sp.admin.request('POST', `/api/servers/${server.id}/test`)).body.ok).toBe(true);
      expect((await sp.admin.request('POST', `/api/servers/${server.id}/test`)).body.ok).toBe(true);
      const third = await sp.admin.request('POST', `/api/servers/${server.id}/test`);
      expect(third.status).toBe(429);
      expect(third.body.error.message).toBe('too many connection attempts; wait a minute');
      const socket = TerminalClient.open(
        sp.url,
        { serverId: server.id },
        { cookie: sp.admin.cookie, origin: sp.admin.origin },
      );
      await expect(socket).rejects.toMatchObject({ status: 429 });
    } finally {
      await sp.stop();
    }
  });
});

describe('session limits', () => {
  it('refuses a user a session beyond their limit, never logging in for it, and allows one again when another ends', async () => {
    // A private sshd, whose log shows every login and every connection closed before one.
    const [sp, sshd] = await Promise.all([
      startEmbedded({ SALLYPORT_MAX_SESSIONS_PER_USER: '1' }),
      startSshd(),
    ]);
    try {
      const server = await sp.admin.createServer(sshdServer(sshd.info()));
      const open = () =>
        TerminalClient.open(
          sp.url,
          { serverId: server.id },
          { cookie: sp.admin.cookie, origin: sp.admin.origin },
        );
      const first = await open();
      await first.waitForControl('ready');
      expect(sshd.logins()).toBe(1);
      const refused = await open();
      expect(await refused.waitForControl('exit')).toMatchObject({
        reason: 'refused',
        message: 'you already have 1 open session; end one first',
      });
      expect(await refused.waitForClose()).toBe(1000);
      // A worker was asked while the limit was checked, and connected; it never logged in.
      await expect.poll(() => sshd.disconnectedBeforeLogin()).toBe(1);
      expect(sshd.logins()).toBe(1);
      first.sendControl({ type: 'close' });
      await first.waitForControl('exit');
      const second = await open();
      await second.waitForControl('ready');
      expect(sshd.logins()).toBe(2);
      second.sendControl({ type: 'close' });
      await second.waitForControl('exit');
    } finally {
      await Promise.all([sp.stop(), sshd.stop()]);
    }
  });

  it("counts only a user's own sessions against their limit, and everyone's against the total", async () => {
    const sp = await startEmbedded({
      SALLYPORT_MAX_SESSIONS_PER_USER: '1',
      SALLYPORT_MAX_SESSIONS: '2',
    });
    try {
      const server = await sp.admin.createServer(sshdServer(inject('sshd')));
      const people = await Promise.all(
        ['bob', 'carol'].map(async (username) => {
          const password = `${username}-password-1`;
          await sp.admin.createUser({ username, password });
          return ApiClient.loggedIn(sp.url, username, password);
        }),
      );
      const open = (as: ApiClient) =>
        TerminalClient.open(
          sp.url,
          { serverId: server.id },
          { cookie: as.cookie, origin: as.origin },
        );
      const admins = await open(sp.admin);
      await admins.waitForControl('ready');
      // The admin's session does not count against bob's own limit of one...
      const bobs = await open(people[0]!);
      await bobs.waitForControl('ready');
      // ...but it counts toward the total: with two open, carol is turned away.
      const turnedAway = await open(people[1]!);
      expect(await turnedAway.waitForControl('exit')).toMatchObject({
        reason: 'refused',
        message: 'Sallyport is at its session limit; try again later',
      });
      bobs.sendControl({ type: 'close' });
      await bobs.waitForControl('exit');
      const carols = await open(people[1]!);
      await carols.waitForControl('ready');
      for (const term of [admins, carols]) {
        term.sendControl({ type: 'close' });
        await term.waitForControl('exit');
      }
    } finally {
      await sp.stop();
    }
  });
});

describe('the smallest flow window', () => {
  const openTerminal = async (sp: Awaited<ReturnType<typeof startEmbedded>>) => {
    const server = await sp.admin.createServer(sshdServer(inject('sshd')));
    const term = await TerminalClient.open(
      sp.url,
      { serverId: server.id },
      { cookie: sp.admin.cookie, origin: sp.admin.origin },
      { render: false },
    );
    await term.waitForControl('ready');
    return term;
  };
  /** The worker's count, or time in seconds, of pauses spent waiting for the browser. */
  const pausesForClient = async (
    sp: Awaited<ReturnType<typeof startEmbedded>>,
    what: 'pauses' | 'paused_seconds',
  ) =>
    metricValue(
      await (await fetch(`${sp.url}/metrics`)).text(),
      `sallyport_worker_output_${what}_total`,
      'reason="client"',
    );

  it('lets a flood through, the shell paused and resumed over and over', async () => {
    const sp = await startEmbedded({ SALLYPORT_FLOW_WINDOW_BYTES: String(64 * 1024) });
    try {
      const term = await openTerminal(sp);
      // 8 MB is 128 windows: the shell is paused and resumed over and over.
      term.type(`head -c 8000000 /dev/zero | tr '\\0' x; echo; echo flood-done\n`);
      await term.waitForOutput('\nflood-done\r\n', 60_000);
      // The operator can see it: each pause counted, as waiting for the browser.
      expect(await pausesForClient(sp, 'pauses')).toBeGreaterThan(10);
      expect(await pausesForClient(sp, 'paused_seconds')).toBeGreaterThan(0);
      term.sendControl({ type: 'close' });
      await term.waitForControl('exit');
    } finally {
      await sp.stop();
    }
  });

  it('delivers the output and exit code of a shell that exits while paused', async () => {
    const sp = await startEmbedded({ SALLYPORT_FLOW_WINDOW_BYTES: String(64 * 1024) });
    try {
      const term = await openTerminal(sp);
      term.type('echo pid=$$\n');
      await term.waitForOutput(/pid=\d+\r\n/);
      const shellPid = /pid=(\d+)\r\n/.exec(term.output)![1]!;
      // A browser that stops reading: the shell is paused after one window of its output, and
      // exits once the rest has gone into the connection's buffers.
      term.pauseReading();
      term.type(`head -c 256000 /dev/zero | tr '\\0' x; exit 7\n`);
      await waitFor(() => !existsSync(`/proc/${shellPid}`), {
        description: 'the shell to exit',
      });
      // Keys for a shell that has gone, while its output waits to be read, go nowhere: they
      // are not counted as input.
      const typedIn = async () =>
        metricValue(
          await (await fetch(`${sp.url}/metrics`)).text(),
          'sallyport_worker_terminal_bytes_total',
          'direction="in"',
        );
      const before = await typedIn();
      for (let i = 0; i < 10; i++) {
        term.type('x');
        await sleep(50);
      }
      term.resumeReading();
      expect(await term.waitForControl('exit')).toMatchObject({ reason: 'exit', code: 7 });
      expect(term.output).toMatch(/x{60000}/);
      expect(await typedIn()).toBe(before);
      // The shell was paused all the while the browser did not read: at least the half second
      // of typing after the shell had exited (less timer rounding), counted as waiting for the
      // browser.
      expect(await pausesForClient(sp, 'paused_seconds')).toBeGreaterThanOrEqual(0.45);
    } finally {
      await sp.stop();
    }
  });

  it('counts a pause that lasts until the session is closed', async () => {
    const sp = await startEmbedded({ SALLYPORT_FLOW_WINDOW_BYTES: String(64 * 1024) });
    try {
      const term = await openTerminal(sp);
      term.pauseReading();
      term.type('yes\n'); // prints until the session ends
      await waitFor(async () => (await pausesForClient(sp, 'pauses')) === 1, {
        description: 'the shell to be paused',
      });
      await sleep(500);
      term.sendControl({ type: 'close' });
      term.resumeReading();
      expect(await term.waitForControl('exit')).toMatchObject({ reason: 'closed' });
      expect(await pausesForClient(sp, 'paused_seconds')).toBeGreaterThanOrEqual(0.45);
    } finally {
      await sp.stop();
    }
  });
});
