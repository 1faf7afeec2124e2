import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { SessionBus, createRedisTransport } from '@sallyport/bus';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from './harness/processes.js';
import { REDIS_URL } from './harness/redis.js';
import { ApiClient } from './support/api.js';
import { startDistributed, startEmbedded } from './support/sallyport.js';
import { marker, sshdServer } from './support/target.js';
import { metricValue } from './support/metrics.js';
import { refuseWrites } from './support/refused-writes.js';
import { TerminalClient } from './support/terminal-client.js';

// Shared and resumable sessions, as users meet them: several people on one session through
// different gateways, exact screens for whoever joins, control handed over live, links revoked,
// sessions resumed. The same suite runs distributed (two gateways and two workers on Redis and
// PostgreSQL) and embedded (one process).

const sshd = inject('sshd');
const PASSWORD = 'participant-password-1';
const IDLE_TIMEOUT_S = 3;
// A screen with no output for this long is compacted (kept as the sequences that redraw it).
const SCREEN_ENV = { SALLYPORT_SCREEN_COMPACT_AFTER_S: '1' };

interface Cluster {
  /** Two gateway URLs; the same one twice in embedded mode. */
  gatewayA: string;
  gatewayB: string;
  admin: ApiClient;
  /** Where the session workers' metrics are (the one process, embedded). */
  metricsUrls: string[];
  /** The database the services share (distributed only). */
  dbUrl?: string;
  /** Puts a message on the bus the way a gateway would (distributed only). */
  busInput?: SessionBus;
  /** Distributed only: the service processes and Redis, and ways to kill a service. */
  pids?: () => number[];
  killWorker?: (workerId: string) => void;
  killGateway?: (index: number) => void;
  stop(): Promise<void>;
}

const modes: Array<{ name: string; distributed: boolean; start(): Promise<Cluster> }> = [
  {
    name: 'distributed',
    distributed: true,
    async start() {
      const c = await startDistributed({
        gateways: 2,
        workers: 2,
        workerEnv: { SALLYPORT_SESSION_IDLE_TIMEOUT_S: String(IDLE_TIMEOUT_S), ...SCREEN_ENV },
      });
      const transport = createRedisTransport({ url: REDIS_URL, prefix: c.prefix });
      return {
        gatewayA: c.gateways[0]!.url!,
        gatewayB: c.gateways[1]!.url!,
        admin: c.admin,
        metricsUrls: c.workers.map((w) => `${w.url!}/metrics`),
        dbUrl: c.db.url,
        busInput: new SessionBus(transport),
        pids: () => [...c.gateways, ...c.workers].map((p) => p.proc.pid!).concat(redisPid()),
        killWorker: (id) => c.workers.find((w) => w.name === `worker-${id}`)!.kill('SIGKILL'),
        killGateway: (index) => c.gateways[index]!.kill('SIGKILL'),
        stop: async () => {
          await transport.close();
          await c.stop();
        },
      };
    },
  },
  {
    name: 'embedded',
    distributed: false,
    async start() {
      const sp = await startEmbedded({
        SALLYPORT_SESSION_IDLE_TIMEOUT_S: String(IDLE_TIMEOUT_S),
        ...SCREEN_ENV,
      });
      return {
        gatewayA: sp.url,
        gatewayB: sp.url,
        admin: sp.admin,
        metricsUrls: [`${sp.url}/metrics`],
        stop: () => sp.stop(),
      };
    },
  },
];

describe.each(modes)('sharing in $name mode', (mode) => {
  let cluster: Cluster;
  let serverId: string;
  const users: Record<
    'bob' | 'vera' | 'mallory',
    { id: string; client: (url: string) => Promise<ApiClient> }
  > = {} as never;

  beforeAll(async () => {
    cluster = await mode.start();
    serverId = (await cluster.admin.createServer(sshdServer(sshd))).id;
    for (const name of ['bob', 'vera', 'mallory'] as const) {
      const { id } = await cluster.admin.createUser({ username: name, password: PASSWORD });
      users[name] = { id, client: (url) => ApiClient.loggedIn(url, name, PASSWORD) };
    }
  });
  afterAll(() => cluster?.stop());

  const headers = (c: ApiClient) => ({ cookie: c.cookie, origin: c.origin });
  const ownerOn = async (url: string, options: { render?: boolean } = {}) => {
    const admin = new ApiClient(url);
    admin.cookie = cluster.admin.cookie;
    const term = await TerminalClient.open(
      url,
      { serverId, cols: 80, rows: 24 },
      headers(admin),
      options,
    );
    await term.waitForControl('ready');
    return term;
  };
  const attach = (client: ApiClient, sessionId: string) =>
    TerminalClient.open(client.baseUrl, { sessionId }, headers(client));
  const share = async (sessionId: string, body: Record<string, unknown>) => {
    const res = await cluster.admin.request('POST', `/api/sessions/${sessionId}/shares`, body);
    expect(res.status).toBe(201);
    return {
      id: res.body.share.id as string,
      token: new URL(res.body.url as string).hash.slice(1),
    };
  };
  const joinWith = async (user: 'bob' | 'vera' | 'mallory', url: string, token: string) => {
    const client = await users[user].client(url);
    const res = await client.request('POST', '/api/shares/redeem', { token });
    expect(res.status).toBe(200);
    const term = await attach(client, res.body.sessionId as string);
    await term.waitForControl('snapshot');
    return { client, term };
  };

  it('owner, a controller and a viewer on different gateways see the same output; only the first two can type', async () => {
    const owner = await ownerOn(cluster.gatewayA);
    const id = owner.sessionId;
    const bob = await joinWith(
      'bob',
      cluster.gatewayB,
      (await share(id, { mode: 'control' })).token,
    );
    const vera = await joinWith(
      'vera',
      cluster.gatewayA,
      (await share(id, { mode: 'view' })).token,
    );
    const everyone = [owner, bob.term, vera.term];

    const one = marker('one');
    owner.type(`echo ${one}\n`);
    for (const t of everyone) await t.waitForOutput(`\n${one}\r\n`);
    const fromBob = marker('from-bob');
    bob.term.type(`echo ${fromBob}\n`);
    for (const t of everyone) await t.waitForOutput(`\n${fromBob}\r\n`);

    const fromVera = marker('from-vera');
    vera.term.type(`echo ${fromVera}\n`);
    expect(await vera.term.waitForControl('error')).toMatchObject({ code: 'forbidden' });
    vera.term.sendControl({ type: 'resize', cols: 50, rows: 10 });
    const fromBus = marker('from-bus');
    // Straight onto the bus, past the gateway: the worker refuses it too.
    await cluster.busInput?.sendInput(id, {
      type: 'input',
      userId: users.vera.id,
      data: Buffer.from(`echo ${fromBus}\n`),
    });
    const after = marker('after');
    owner.type(`echo ${after}\n`);
    for (const t of everyone) await t.waitForOutput(`\n${after}\r\n`);
    for (const t of everyone) {
      expect(t.output).not.toContain(fromVera);
      expect(t.output).not.toContain(fromBus);
    }
    owner.type('stty size\n');
    await owner.waitForOutput('\n24 80\r\n');

    // Active sessions: the owner's and the joiners' lists have it, with each one's role.
    const listed = async (c: ApiClient) =>
      ((await c.request('GET', '/api/sessions?status=active')).body.sessions as any[]).find(
        (x) => x.id === id,
      )?.role;
    expect(await listed(vera.client)).toBe('view');
    expect(await listed(bob.client)).toBe('control');
    expect(await listed(await users.mallory.client(cluster.gatewayA))).toBeUndefined();
    expect((await vera.client.request('GET', '/api/sessions?scope=all')).status).toBe(403);

    const roles = await waitFor(() => {
      const last = owner.control.filter((m) => m.type === 'participants').at(-1);
      const list = last?.participants as Array<{ username: string; role: string }> | undefined;
      return list?.length === 3 ? list : undefined;
    });
    expect(roles.map((p) => [p.username, p.role]).sort()).toEqual([
      ['admin', 'owner'],
      ['bob', 'control'],
      ['vera', 'view'],
    ]);
    owner.sendControl({ type: 'close' });
    for (const t of everyone)
      expect(await t.waitForControl('exit')).toMatchObject({ reason: 'closed' });

    // Every step is in the audit log under the person who took it, and the chain is intact.
    // (Leaving and the end are written as sockets close, so wait until all are there.)
    const expected = [
      'admin:session.start',
      'admin:share.create',
      'bob:share.redeem',
      'bob:session.join',
      'vera:share.redeem',
      'vera:session.join',
      'bob:session.leave',
      'vera:session.leave',
      'admin:session.end',
    ];
    let audited: string[] = [];
    await waitFor(async () => {
      const events = (await cluster.admin.request('GET', `/api/audit?sessionId=${id}`)).body
        .events as any[];
      audited = events.map((e) => `${e.actorName}:${e.action}`);
      return expected.every((e) => audited.includes(e));
    }).catch(() => undefined);
    for (const e of expected) expect(audited).toContain(e);
    expect((await cluster.admin.request('GET', '/api/audit/verify')).body).toMatchObject({
      ok: true,
    });
    expect((await vera.client.request('GET', '/api/audit')).status).toBe(403);
  });

  it('shows a joiner the exact screen of a full-screen program, cell for cell', async () => {
    const owner = await ownerOn(cluster.gatewayA);
    owner.type(
      'seq 1 500 > ~/sharing-long.txt; printf "\\033[1;31mred title\\033[0m\\n" >> ~/sharing-long.txt; less -R +G ~/sharing-long.txt\n',
    );
    await waitFor(async () => (await owner.rows()).some((r) => r.includes('red title')), {
      description: 'less showing the file',
    });
    const bob = await joinWith(
      'bob',
      cluster.gatewayB,
      (await share(owner.sessionId, { mode: 'view' })).token,
    );
    await waitFor(
      async () => JSON.stringify(await bob.term.cells()) === JSON.stringify(await owner.cells()),
      {
        description: 'identical screens',
        timeoutMs: 5_000,
      },
    ).catch(async () => {
      expect(await bob.term.rows()).toEqual(await owner.rows());
      expect(await bob.term.cells()).toEqual(await owner.cells());
    });
    expect((await bob.term.cells()).alternate).toBe(true);
    owner.type('q');
    owner.sendControl({ type: 'close' });
    await owner.waitForControl('exit');
  });

  it('compacts a quiet screen and brings it back exactly, for joiners and for more output', async () => {
    const owner = await ownerOn(cluster.gatewayA);
    const quiet = marker('quiet');
    // Colours, a line long enough to wrap, and history.
    owner.type(
      `seq 1 150; printf '\\033[1;32m%s\\033[0m %0120d\\n' ${quiet} 7; echo after-${quiet}\n`,
    );
    await owner.waitForOutput(`\nafter-${quiet}\r\n`);
    // Every open session's screen compacted, this one's with them.
    await waitFor(
      async () => {
        const { open, compacted } = await screenCounts();
        return open > 0 && compacted === open;
      },
      { description: 'the quiet screen to be compacted', timeoutMs: 30_000 },
    );
    const sameScreen = async (term: TerminalClient) =>
      waitFor(
        async () => JSON.stringify(await term.cells()) === JSON.stringify(await owner.cells()),
        { description: 'identical screens', timeoutMs: 5_000 },
      ).catch(async () => expect(await term.cells()).toEqual(await owner.cells()));

    const { token } = await share(owner.sessionId, { mode: 'view' });
    const bob = await joinWith('bob', cluster.gatewayB, token);
    await sameScreen(bob.term);
    expect(await bob.term.rows()).toContain(`after-${quiet}`);

    // Output rebuilds the screen; one who joins after it sees it too.
    owner.type(`echo more-${quiet}\n`);
    await owner.waitForOutput(`\nmore-${quiet}\r\n`);
    await bob.term.waitForOutput(`\nmore-${quiet}\r\n`);
    const vera = await joinWith('vera', cluster.gatewayA, token);
    await sameScreen(vera.term);
    await sameScreen(bob.term);
    owner.sendControl({ type: 'close' });
    await owner.waitForControl('exit');
  });

  /** Open sessions and compacted screens, over every session worker. */
  async function screenCounts(): Promise<{ open: number; compacted: number }> {
    let open = 0;
    let compacted = 0;
    for (const url of cluster.metricsUrls) {
      const text = await (await fetch(url)).text();
      open += metricValue(text, 'sallyport_worker_sessions_open') ?? NaN;
      compacted += metricValue(text, 'sallyport_worker_screens_compacted') ?? NaN;
    }
    return { open, compacted };
  }

  it('hands control over live, and the owner can take it back', async () => {
    const owner = await ownerOn(cluster.gatewayA);
    const vera = await joinWith(
      'vera',
      cluster.gatewayB,
      (await share(owner.sessionId, { mode: 'view' })).token,
    );
    vera.term.sendControl({ type: 'control-request' });
    const request = await owner.waitForControl('control-request');
    expect(request).toMatchObject({ userId: users.vera.id, username: 'vera' });

    owner.sendControl({ type: 'control-deny', userId: users.vera.id });
    await vera.term.waitForControl('control-denied');
    owner.sendControl({ type: 'control-grant', userId: users.vera.id });
    await vera.term.waitForControl('role', 5_000, (m) => m.role === 'control');
    const typed = marker('vera-typed');
    vera.term.type(`echo ${typed}\n`);
    await owner.waitForOutput(`\n${typed}\r\n`);

    const grants = await waitFor(async () => {
      const events = (
        await cluster.admin.request(
          'GET',
          `/api/audit?sessionId=${owner.sessionId}&action=session.control_granted`,
        )
      ).body.events as any[];
      return events.length > 0 ? events : undefined;
    });
    expect(grants[0]).toMatchObject({ actorName: 'admin', details: { userId: users.vera.id } });
    owner.sendControl({ type: 'control-revoke', userId: users.vera.id });
    await vera.term.waitForControl('role', 5_000, (m) => m.role === 'view');
    vera.term.type('echo should-not-run\n');
    await waitFor(
      () =>
        vera.term.control.filter((m) => m.type === 'error' && m.code === 'forbidden').length > 0,
    );
    owner.sendControl({ type: 'close' });
    await owner.waitForControl('exit');
  });

  it.runIf(mode.distributed)(
    'hands control over even when the database cannot record it',
    async () => {
      const restore = await refuseWrites(cluster.dbUrl!, {
        name: 'refuse_role_change',
        table: 'session_participants',
        event: 'UPDATE',
        when: 'NEW.role IS DISTINCT FROM OLD.role',
      });
      try {
        const owner = await ownerOn(cluster.gatewayA);
        const vera = await joinWith(
          'vera',
          cluster.gatewayB,
          (await share(owner.sessionId, { mode: 'view' })).token,
        );
        owner.sendControl({ type: 'control-grant', userId: users.vera.id });
        await vera.term.waitForControl('role', 5_000, (m) => m.role === 'control');
        const typed = marker('vera-typed');
        vera.term.type(`echo ${typed}\n`);
        await owner.waitForOutput(`\n${typed}\r\n`);
        owner.sendControl({ type: 'close' });
        await owner.waitForControl('exit');
      } finally {
        await restore();
      }
    },
  );

  it('revoking a share disconnects its joiners within 5 s; dead links fail alike and open nothing else', async () => {
    const owner = await ownerOn(cluster.gatewayA);
    const other = await ownerOn(cluster.gatewayB);
    const link = await share(owner.sessionId, { mode: 'view', maxUses: 2 });
    const vera = await joinWith('vera', cluster.gatewayB, link.token);
    const bob = await joinWith('bob', cluster.gatewayA, link.token);

    // A use-limited link is used up; and a link opens only its own session.
    const mallory = await users.mallory.client(cluster.gatewayA);
    const usedUp = await mallory.request('POST', '/api/shares/redeem', { token: link.token });
    expect(usedUp).toMatchObject({
      status: 410,
      body: { error: { message: 'this share link is invalid, expired, used up or revoked' } },
    });
    await expect(attach(vera.client, other.sessionId)).rejects.toMatchObject({ status: 404 });

    const revokedAt = Date.now();
    expect((await cluster.admin.request('DELETE', `/api/shares/${link.id}`)).status).toBe(204);
    for (const t of [vera.term, bob.term]) {
      expect(await t.waitForControl('exit', 5_000)).toMatchObject({ reason: 'removed' });
    }
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    const again = await vera.client.request('POST', '/api/shares/redeem', { token: link.token });
    expect(again).toEqual(usedUp);
    await expect(attach(vera.client, owner.sessionId)).rejects.toMatchObject({ status: 404 });
    const forged = await mallory.request('POST', '/api/shares/redeem', { token: 'x'.repeat(43) });
    expect(forged).toEqual(usedUp);

    // The session itself goes on.
    const still = marker('still-here');
    owner.type(`echo ${still}\n`);
    await owner.waitForOutput(`\n${still}\r\n`);
    for (const t of [owner, other]) t.sendControl({ type: 'close' });
  });

  it('resumes on another gateway with the screen as it is now, and ends a detached session after the idle timeout', async () => {
    const owner = await ownerOn(cluster.gatewayA);
    // The session's own processes on the target: its shell, and the sshd process serving it.
    owner.type('echo shell-pid=$$\n');
    await owner.waitForOutput(/\nshell-pid=\d+/);
    const shell = Number(/\nshell-pid=(\d+)/.exec(owner.output)![1]);
    const sessionProcesses = [shell, parentOf(shell)];
    const later = marker('while-away');
    const flag = `/tmp/sallyport-${later}`;
    // A job that prints after the owner has left, and leaves a file to say it has.
    owner.type(`(sleep 1; echo; echo ${later}; touch ${flag}) &\n`);
    await owner.waitForOutput(/\[1\] \d+/);
    owner.close();
    await waitFor(() => existsSync(flag), { description: 'the job to print while nobody watched' });
    rmSync(flag);

    const onB = new ApiClient(cluster.gatewayB);
    onB.cookie = cluster.admin.cookie;
    const back = await attach(onB, owner.sessionId);
    await back.waitForControl('snapshot');
    expect(await back.rows()).toContain(later);
    back.close();

    const ended = await waitFor(
      async () => {
        const s = await cluster.admin.session(owner.sessionId);
        return s.status === 'ended' ? s : undefined;
      },
      { timeoutMs: (IDLE_TIMEOUT_S + 20) * 1000 },
    );
    expect(ended.endReason).toBe('idle_timeout');
    await waitFor(() => sessionProcesses.every((pid) => !isRunning(pid)), {
      description: "the session's shell and sshd process to exit",
    });
  });

  // The rest kill processes, so they run last, and only where each service is its own process.

  it.runIf(mode.distributed)(
    'keeps the owner flowing past a viewer that stops reading, within bounded memory',
    { timeout: 180_000 },
    async () => {
      const owner = await ownerOn(cluster.gatewayA, { render: false });
      const vera = await joinWith(
        'vera',
        cluster.gatewayB,
        (await share(owner.sessionId, { mode: 'view' })).token,
      );
      const pids = cluster.pids!();
      const before = rssByPid(pids);
      const peak = new Map(before);
      const sampler = setInterval(() => {
        for (const [pid, rss] of rssByPid(pids)) peak.set(pid, Math.max(peak.get(pid) ?? 0, rss));
      }, 100);
      try {
        vera.term.pauseReading();
        const done = marker('flood-done');
        // 200 MB through the PTY, then a line the owner must see while the viewer still sleeps.
        owner.type(`head -c 200000000 /dev/zero | tr '\\0' x; echo; echo ${done}\n`);
        await owner.waitForOutput(`\n${done}\r\n`, 120_000);
        vera.term.resumeReading();
        // The viewer is brought back with a fresh snapshot, not the backlog.
        await waitFor(async () => (await vera.term.rows()).includes(done), {
          timeoutMs: 30_000,
          description: 'the viewer to be resynced',
        });
        expect(
          vera.term.control.filter((m) => m.type === 'snapshot').length,
        ).toBeGreaterThanOrEqual(2);
      } finally {
        clearInterval(sampler);
      }
      // A process that kept the sleeping viewer's backlog would grow by the flood, 200 MB. The
      // bound leaves room for what V8 lets pile up before it frees large buffers (tens of MB
      // of output already sent), which does not grow with the flood.
      for (const [pid, rss] of peak) {
        const growth = rss - (before.get(pid) ?? rss);
        expect(growth, `process ${pid} grew by ${Math.round(growth / 1048576)} MB`).toBeLessThan(
          96 * 1024 * 1024,
        );
      }
      owner.sendControl({ type: 'close' });
      await owner.waitForControl('exit');
    },
  );

  it.runIf(mode.distributed)(
    'tells every participant on every gateway "worker lost" when the owning worker is killed',
    async () => {
      const owner = await ownerOn(cluster.gatewayA);
      const vera = await joinWith(
        'vera',
        cluster.gatewayB,
        (await share(owner.sessionId, { mode: 'view' })).token,
      );
      const row = await cluster.admin.session(owner.sessionId);
      const killedAt = Date.now();
      cluster.killWorker!(row.workerId as string);
      for (const t of [owner, vera.term]) {
        expect(await t.waitForControl('exit', 10_000)).toMatchObject({ reason: 'worker_lost' });
      }
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      expect(await cluster.admin.session(owner.sessionId)).toMatchObject({
        status: 'ended',
        endReason: 'worker_lost',
      });
    },
  );

  it.runIf(mode.distributed)(
    'survives the gateway its owner and viewer were on being killed: both resume on the other',
    async () => {
      const owner = await ownerOn(cluster.gatewayA);
      const sessionId = owner.sessionId;
      const vera = await joinWith(
        'vera',
        cluster.gatewayA,
        (await share(sessionId, { mode: 'view' })).token,
      );
      const flag = `/tmp/sallyport-${marker('gateway-gone')}`;
      const away = marker('printed-while-away');
      owner.type(`(sleep 1; echo; echo ${away}; touch ${flag}) &\n`);
      await owner.waitForOutput(/\[1\] \d+/);
      cluster.killGateway!(0);
      await Promise.all([owner.waitForClose(), vera.term.waitForClose()]);
      await waitFor(() => existsSync(flag), { description: 'output while nobody was attached' });
      rmSync(flag);

      const ownerOnB = new ApiClient(cluster.gatewayB);
      ownerOnB.cookie = cluster.admin.cookie;
      const ownerBack = await attach(ownerOnB, sessionId);
      const veraOnB = await users.vera.client(cluster.gatewayB);
      const veraBack = await attach(veraOnB, sessionId);
      for (const t of [ownerBack, veraBack]) {
        await t.waitForControl('snapshot');
        expect(await t.rows()).toContain(away);
      }
      const live = marker('live-again');
      ownerBack.type(`echo ${live}\n`);
      for (const t of [ownerBack, veraBack]) await t.waitForOutput(`\n${live}\r\n`);
      ownerBack.sendControl({ type: 'close' });
      await ownerBack.waitForControl('exit');
    },
  );
});

/** Resident memory (bytes) of each process, from /proc. */
function rssByPid(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
      out.set(pid, pages * 4096);
    } catch {
      // the process is gone
    }
  }
  return out;
}

function redisPid(): number[] {
  try {
    return execFileSync('pidof', ['redis-server'], { encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .map(Number);
  } catch {
    return [];
  }
}

/** The parent of a process, from /proc. */
function parentOf(pid: number): number {
  // The command name in field 2 may hold spaces; the fields after its closing ")" do not.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** True while the process exists and is not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
