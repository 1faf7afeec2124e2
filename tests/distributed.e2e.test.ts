import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisTransport, SessionBus, type SessionMessage } from '@sallyport/bus';
import { tcpListener, waitFor } from './harness/processes.js';
import { REDIS_URL } from './harness/redis.js';
import { startSshd } from './harness/sshd.js';
import { startDistributed, type Distributed } from './support/sallyport.js';
import { marker, sshdServer } from './support/target.js';
import { ApiClient } from './support/api.js';
import { metricValue } from './support/metrics.js';
import { refuseWrites } from './support/refused-writes.js';
import { TerminalClient } from './support/terminal-client.js';

// Distributed mode for real: a gateway and session workers as separate processes, meeting on
// real Redis and PostgreSQL. Each worker takes one session at a time, so that placement is
// visible: a second session must go to the other worker.
const sshd = inject('sshd');
let cluster: Distributed;
let serverId: string;

beforeAll(async () => {
  cluster = await startDistributed({
    gateways: 2,
    workers: 2,
    workerEnv: { SALLYPORT_WORKER_MAX_SESSIONS: '1' },
  });
  serverId = (await cluster.admin.createServer(sshdServer(sshd))).id;
});
afterAll(() => cluster?.stop());

const gatewayUrl = () => cluster.gateways[0]!.url!;
const open = () =>
  TerminalClient.open(
    gatewayUrl(),
    { serverId, cols: 80, rows: 24 },
    { cookie: cluster.admin.cookie, origin: cluster.admin.origin },
  );

/** Sessions the workers have finished ending with reason "error", from their metrics. */
async function sessionsEndedWithError(): Promise<number> {
  let total = 0;
  for (const worker of cluster.workers) {
    const metrics = await (await fetch(`${worker.url!}/metrics`)).text();
    total += metricValue(metrics, 'sallyport_worker_sessions_ended_total', 'reason="error"') ?? 0;
  }
  return total;
}

/** The workers' head starts (connections started while a server's row is read), by outcome. */
async function headStarts(): Promise<{ used: number; discarded: number }> {
  const counts = { used: 0, discarded: 0 };
  for (const worker of cluster.workers) {
    const metrics = await (await fetch(`${worker.url!}/metrics`)).text();
    for (const outcome of ['used', 'discarded'] as const)
      counts[outcome] +=
        metricValue(metrics, 'sallyport_worker_head_starts_total', `outcome="${outcome}"`) ?? 0;
  }
  return counts;
}

/**
 * Sends a terminal upgrade request and resets the connection while the gateway checks its login,
 * which a lock on the login sessions holds up meanwhile.
 */
async function upgradeAndResetDuringLogin(): Promise<void> {
  const db = new pg.Client({ connectionString: cluster.db.url });
  await db.connect();
  try {
    await db.query('BEGIN');
    await db.query('LOCK TABLE login_sessions IN ACCESS EXCLUSIVE MODE');
    const url = new URL('/api/terminal', gatewayUrl());
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    socket.write(
      [
        `GET ${url.pathname}?serverId=${serverId}&cols=80&rows=24 HTTP/1.1`,
        `Host: ${url.host}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        `Origin: ${cluster.admin.origin}`,
        `Cookie: ${cluster.admin.cookie}`,
        '\r\n',
      ].join('\r\n'),
    );
    // Found by its lock, not by its text: a connection held up before its query has started
    // (as its statement is prepared) shows as idle, with its previous query, in pg_stat_activity.
    await waitFor(async () => {
      const { rows } = await db.query(`SELECT 1 FROM pg_locks l
        JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'login_sessions' AND NOT l.granted`);
      return rows.length > 0;
    });
    socket.resetAndDestroy();
    await once(socket, 'close');
    // The reset reached the gateway before this request did, so it has seen it by the answer.
    expect((await fetch(`${gatewayUrl()}/healthz`)).status).toBe(200);
  } finally {
    await db.query('ROLLBACK').catch(() => undefined);
    await db.end();
  }
}

describe('a terminal in distributed mode', () => {
  it('is served by a worker in another process: commands, resize, exit code, session row', async () => {
    const term = await open();
    await term.waitForControl('ready');
    const hello = marker('hello');
    term.type(`echo ${hello}\n`);
    await term.waitForOutput(`\n${hello}\r\n`);
    term.sendControl({ type: 'resize', cols: 100, rows: 30 });
    term.type('stty size\n');
    await term.waitForOutput('\n30 100\r\n');
    term.type('exit 3\n');
    expect(await term.waitForControl('exit')).toMatchObject({ reason: 'exit', code: 3 });

    const row = await waitFor(async () => {
      const s = await cluster.admin.session(term.sessionId);
      return s.status === 'ended' ? s : undefined;
    });
    expect(row).toMatchObject({ endReason: 'exit', exitCode: 3 });
    expect(['worker-1', 'worker-2']).toContain(row.workerId);
  });

  it('opens no shell when its start cannot be audited, and other sessions carry on', async () => {
    const running = await open();
    await running.waitForControl('ready');
    // A trigger that refuses every session.start stands in for an audit log that cannot be
    // written (the worker writes that event while it connects).
    const restore = await refuseWrites(cluster.db.url, {
      name: 'refuse_session_start',
      table: 'audit_events',
      event: 'INSERT',
      when: `NEW.action = 'session.start'`,
    });
    try {
      const endedBefore = await sessionsEndedWithError();
      const refused = await open();
      expect(await refused.waitForControl('exit')).toMatchObject({ reason: 'error' });
      expect(refused.control.map((m) => m.type)).not.toContain('ready');
      const row = await waitFor(async () => {
        const s = await cluster.admin.session(refused.sessionId);
        return s.status === 'ended' ? s : undefined;
      });
      expect(row).toMatchObject({ endReason: 'error', connectedAt: null });
      // Once the worker has finished with it (its metrics count the end last), the audit log
      // holds neither a start nor an end for it.
      await waitFor(async () =>
        (await sessionsEndedWithError()) > endedBefore ? true : undefined,
      );
      const audit = await cluster.admin.request('GET', `/api/audit?sessionId=${refused.sessionId}`);
      expect(audit.body.events).toEqual([]);
    } finally {
      await restore();
    }

    const still = marker('still');
    running.type(`echo ${still}\n`);
    await running.waitForOutput(`\n${still}\r\n`);
    running.type('exit\n');
    await running.waitForClose();
  });

  it('serves a session whose row cannot be marked active, and the worker carries on', async () => {
    const restore = await refuseWrites(cluster.db.url, {
      name: 'refuse_active',
      table: 'terminal_sessions',
      event: 'UPDATE',
      when: `NEW.status = 'active'`,
    });
    try {
      const term = await open();
      await term.waitForControl('ready');
      const typed = marker('typed');
      term.type(`echo ${typed}\n`);
      await term.waitForOutput(`\n${typed}\r\n`);
      expect(await cluster.admin.session(term.sessionId)).toMatchObject({ connectedAt: null });
      term.type('exit\n');
      await term.waitForClose();
    } finally {
      await restore();
    }
    // Both workers still serve sessions (each takes one at a time).
    const [first, second] = await Promise.all([open(), open()]);
    for (const term of [first, second]) {
      await term.waitForControl('ready');
      term.type('exit\n');
      await term.waitForClose();
    }
  });

  it('gives up at its deadline, never logging in, on a session its gateway never admits', async () => {
    // What a worker sees of a gateway that died between asking for a session and deciding on
    // it: a request on the bus, and no verdict. A private sshd's log shows whether it logged in.
    const target = await startSshd();
    const bus = new SessionBus(createRedisTransport({ url: REDIS_URL, prefix: cluster.prefix }));
    try {
      const server = await cluster.admin.createServer(sshdServer(target.info()));
      const sessionId = randomUUID();
      const heard: SessionMessage[] = [];
      await bus.watch(sessionId, (msg) => heard.push(msg));
      await bus.requestOpen({
        sessionId,
        kind: 'shell',
        userId: randomUUID(),
        username: 'nobody',
        serverId: server.id,
        cols: 80,
        rows: 24,
        attachId: randomUUID(),
        clientIp: '192.0.2.1',
        deadline: Date.now() + 2_000,
        awaitsAdmission: true,
      });
      const ended = await waitFor(() => heard.find((m) => m.type === 'ended'));
      expect(ended).toMatchObject({
        reason: 'closed',
        message: 'the session was not admitted (a session limit, or the client left)',
      });
      expect(heard.map((m) => m.type)).toEqual(['accepted', 'ended']);
      await waitFor(() => target.disconnectedBeforeLogin() === 1);
      expect(target.logins()).toBe(0);
    } finally {
      await Promise.all([bus.close(), target.stop()]);
    }
  });

  it('connects to a server it has served while reading its row, and follows the row when it changes', async () => {
    const server = await cluster.admin.createServer(sshdServer(sshd));
    /** A session to the server, to its prompt and its end; which worker served it. */
    const serve = async (): Promise<string> => {
      const term = await TerminalClient.open(
        gatewayUrl(),
        { serverId: server.id, cols: 80, rows: 24 },
        { cookie: cluster.admin.cookie, origin: cluster.admin.origin },
      );
      await term.waitForControl('ready');
      const { workerId } = await cluster.admin.session(term.sessionId);
      term.type('exit\n');
      await term.waitForControl('exit');
      return workerId as string;
    };
    const before = await headStarts();
    // Three sessions on two workers: each one a worker has served the server before starts early.
    const servedBy = [await serve(), await serve(), await serve()];
    const repeats = servedBy.length - new Set(servedBy).size;
    expect(await headStarts()).toEqual({
      used: before.used + repeats,
      discarded: before.discarded,
    });

    // The server moves (a relay on another port): a head start to the old port is closed, and the
    // session goes where the row says.
    const relay = await tcpListener({ host: sshd.host, port: sshd.port });
    try {
      const moved = await cluster.admin.request('PUT', `/api/servers/${server.id}`, {
        port: relay.port,
      });
      expect(moved.status).toBe(200);
      const worker = await serve();
      expect(relay.accepted).toHaveLength(1);
      expect(await headStarts()).toEqual({
        used: before.used + repeats,
        discarded: before.discarded + (servedBy.includes(worker) ? 1 : 0),
      });
    } finally {
      relay.close();
    }
  });

  it('places two sessions opened at once on different workers', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    await Promise.all([a.waitForControl('ready'), b.waitForControl('ready')]);
    const [rowA, rowB] = await Promise.all([
      cluster.admin.session(a.sessionId),
      cluster.admin.session(b.sessionId),
    ]);
    expect(new Set([rowA.workerId, rowB.workerId])).toEqual(new Set(['worker-1', 'worker-2']));
    a.type('exit\n');
    b.type('exit\n');
    await Promise.all([a.waitForClose(), b.waitForClose()]);
  });

  it('subscribes to a new session while its socket is checked, and keeps nothing for a refused one', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const outputChannels = () => redis.pubsub('CHANNELS', `${cluster.prefix}sess:*:out`);
      const before = await outputChannels();
      // Both are refused after the login check, where the subscription is made.
      for (const [query, status] of [
        [{ serverId, cols: 0, rows: 24 }, 400],
        [{ serverId: 'not-a-server' }, 404],
      ] as const) {
        await expect(
          TerminalClient.open(gatewayUrl(), query, {
            cookie: cluster.admin.cookie,
            origin: cluster.admin.origin,
          }),
        ).rejects.toMatchObject({ status });
      }
      // A client that goes while its login is checked: its socket has closed before the
      // subscription could listen for that.
      await upgradeAndResetDuringLogin();
      // The gateway subscribes on one connection, in order: by the time this session's channel
      // is subscribed, the refused ones have been dropped.
      const term = await open();
      await term.waitForControl('ready');
      const added = (await outputChannels()).filter((channel) => !before.includes(channel));
      expect(added).toEqual([`${cluster.prefix}sess:${term.sessionId}:out`]);
      term.type('exit\n');
      await term.waitForClose();
      await waitFor(async () => !(await outputChannels()).some((c) => added.includes(c)));
    } finally {
      redis.disconnect();
    }
  });

  it('carries on when a client resets its connection while its login is checked', async () => {
    const running = await open();
    await running.waitForControl('ready');
    await upgradeAndResetDuringLogin(); // it used to take the gateway down
    const alive = marker('alive');
    running.type(`echo ${alive}\n`);
    await running.waitForOutput(`\n${alive}\r\n`);
    running.type('exit\n');
    await running.waitForClose();
  });

  it('tells the browser "worker lost" within 10 seconds when the owning worker is killed', async () => {
    const term = await open();
    await term.waitForControl('ready');
    const row = await cluster.admin.session(term.sessionId);
    const owner = cluster.workers.find((w) => w.name === `worker-${row.workerId}`)!;
    const killedAt = Date.now();
    owner.kill('SIGKILL');

    const exit = await term.waitForControl('exit', 10_000);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(exit).toMatchObject({ reason: 'worker_lost' });
    const ended = await cluster.admin.session(term.sessionId);
    expect(ended).toMatchObject({ status: 'ended', endReason: 'worker_lost' });
    expect(ended.endedAt).not.toBeNull();

    // The surviving worker still serves new sessions.
    const next = await open();
    await next.waitForControl('ready');
    const alive = marker('alive');
    next.type(`echo ${alive}\n`);
    await next.waitForOutput(`\n${alive}\r\n`);
    next.close();
  });

  it('on SIGTERM, a worker ends its sessions and tells their clients why', async () => {
    await cluster.addWorker('worker-3');
    const term = await open();
    await term.waitForControl('ready');
    const row = await cluster.admin.session(term.sessionId);
    const owner = cluster.workers.find((w) => w.name === `worker-${row.workerId}`)!;
    await owner.stop();
    expect(await term.waitForControl('exit')).toMatchObject({
      reason: 'worker_shutdown',
      message: 'the session worker is shutting down',
    });
    expect(await cluster.admin.session(term.sessionId)).toMatchObject({
      status: 'ended',
      endReason: 'worker_shutdown',
    });
  });
});

describe('login throttling across gateway replicas', () => {
  it('counts failures on every gateway against one limit, and says when to retry', async () => {
    const [a, b] = cluster.gateways.map((g) => new ApiClient(g.url!));
    // Ten failures (the default limit), alternating between the two gateways.
    for (let i = 0; i < 10; i++) {
      const res = await (i % 2 ? b! : a!).request('POST', '/api/auth/login', {
        username: 'mallory',
        password: `guess-${i}`,
      });
      expect(res.status).toBe(401);
    }
    for (const client of [a!, b!]) {
      const res = await fetch(`${client.baseUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'mallory', password: 'another-guess' }),
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await res.json()).error.message).toMatch(
        /^too many failed logins; try again in \d+ minutes?$/,
      );
    }
    // Another user is not affected.
    await new ApiClient(cluster.gateways[1]!.url!).login('admin', cluster.adminPassword);
  });
});
