// connectSsh starts the TCP connection before the pinned host key has been read, and hands the
// socket to ssh2 once it has: whichever comes first, the outcome must be the same, on a plain
// socket and on a paced one (which reads as soon as it connects). A connection started even
// earlier (a head start) is used only if it goes to the target.
import { connect as tcpConnect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type KnownHost } from '@sallyport/db';
import { freePort, listenOnLoopback, tcpListener } from '../../../tests/harness/processes.js';
import { startSshd, type SshdHandle } from '../../../tests/harness/sshd.js';
import { KnownHosts } from './known-hosts.js';
import { connectSsh, type ConnectOptions } from './ssh-connect.js';
import { StartedSocket } from './started-socket.js';

let sshd: SshdHandle;
let db: Database;
let knownHosts: KnownHosts;
beforeAll(async () => {
  [sshd, db] = await Promise.all([
    startSshd(),
    openDatabase({ kind: 'pglite', dataDir: 'memory://' }),
  ]);
  knownHosts = new KnownHosts(db.prisma, 'tofu');
});
afterAll(async () => {
  await sshd.stop();
  await db.close();
});

/** The test user with its password, at `host` (resolved to 127.0.0.1) on `port`. */
function targetAt(port: number, host = '127.0.0.1') {
  return {
    host,
    address: '127.0.0.1',
    port,
    username: sshd.user,
    auth: { password: sshd.password },
  };
}

/**
 * A relay in front of sshd that tells when the server's greeting has gone through it, and how
 * many connections it took.
 */
async function greetingRelay() {
  let greeted!: () => void;
  const forwarded = new Promise<void>((resolve) => (greeted = resolve));
  const sockets: Socket[] = [];
  let connections = 0;
  const server = createServer((client) => {
    connections += 1;
    const upstream = tcpConnect(sshd.port, '127.0.0.1');
    sockets.push(client, upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      greeted();
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined).on('close', () => sockets.forEach((s) => s.destroy()));
    }
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    forwarded,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe.each([false, true])('connectSsh, reads paced: %s', (paceReads) => {
  const connect = (port: number, pinned: Promise<KnownHost | null>) =>
    connectSsh(targetAt(port), {
      knownHosts,
      pinned,
      connectTimeoutMs: 5_000,
      keepaliveIntervalMs: 0,
      paceReads,
    });

  it('logs in when the pinned key is read at once', async () => {
    const result = await connect(sshd.port, knownHosts.pinned('127.0.0.1', sshd.port));
    expect(result.ok).toBe(true);
    if (result.ok) result.client.end();
  });

  it('logs in when the pinned key comes after the server has sent its greeting', async () => {
    const relay = await greetingRelay();
    try {
      // A moment after the greeting was forwarded: by then it has reached the socket.
      const pinned = relay.forwarded
        .then(() => sleep(20))
        .then(() => knownHosts.pinned('127.0.0.1', relay.port));
      const result = await connect(relay.port, pinned);
      expect(result.ok).toBe(true);
      if (result.ok) result.client.end();
    } finally {
      relay.close();
    }
  });

  it.each([
    ['before the refusal', () => Promise.resolve(null)],
    ['after the refusal', () => sleep(300).then(() => null)],
  ])('reports a refused port when the pinned key comes %s', async (_, pinned) => {
    const port = await freePort();
    expect(await connect(port, pinned())).toEqual({
      ok: false,
      reason: 'connect_failed',
      message: `connection refused by 127.0.0.1:${port}`,
    });
  });

  it('fails, and closes its socket, when the pinned key cannot be read', async () => {
    const listener = await tcpListener();
    try {
      const lookup = sleep(200).then(() => Promise.reject(new Error('database unreachable')));
      await expect(connect(listener.port, lookup)).rejects.toThrow('database unreachable');
      await expect.poll(() => listener.accepted.length).toBe(1);
      await new Promise((resolve) => listener.accepted[0]!.once('close', resolve).resume());
    } finally {
      listener.close();
    }
  });
});

describe('connectSsh with the login decided while it connects', () => {
  const connect = (
    host: string,
    loginWhen: Promise<boolean>,
    options: Partial<ConnectOptions> = {},
  ) =>
    connectSsh(targetAt(sshd.port, host), {
      knownHosts,
      pinned: knownHosts.pinned(host, sshd.port),
      connectTimeoutMs: 5_000,
      keepaliveIntervalMs: 0,
      loginWhen,
      ...options,
    });

  it('sends the password only once the login is confirmed, and says when it starts', async () => {
    const before = sshd.logins();
    let confirm!: (login: boolean) => void;
    const events: string[] = [];
    const connecting = connect('confirmed.test', new Promise((resolve) => (confirm = resolve)), {
      onLogin: () => events.push('login'),
    });
    await sleep(300);
    expect(sshd.logins()).toBe(before);
    expect(events).toEqual([]);
    confirm(true);
    const result = await connecting;
    events.push('ready');
    expect(events).toEqual(['login', 'ready']);
    expect(result).toMatchObject({ ok: true, hostKey: { kind: 'pinned' } });
    if (result.ok) result.client.end();
    await expect.poll(() => sshd.logins()).toBe(before + 1);
  });

  it('calls the connection off with no password sent and no host key pinned', async () => {
    const before = sshd.logins();
    expect(
      await connect(
        'called-off.test',
        sleep(100).then(() => false),
      ),
    ).toEqual({
      ok: false,
      reason: 'connect_failed',
      message: `the login to called-off.test:${sshd.port} was called off`,
    });
    expect(await knownHosts.pinned('called-off.test', sshd.port)).toBeNull();
    await sleep(100);
    expect(sshd.logins()).toBe(before);
  });

  it('does not start a login, nor say so, for a host key other than the pinned one', async () => {
    const before = sshd.logins();
    let loginStarted = false;
    const otherKey: KnownHost = {
      id: crypto.randomUUID(),
      host: 'rebuilt.test',
      port: sshd.port,
      keyType: 'ssh-ed25519',
      fingerprint: 'SHA256:not-the-key-this-host-presents',
      publicKey: 'AAAA',
      createdAt: new Date(),
    };
    const result = await connect('rebuilt.test', Promise.resolve(true), {
      pinned: Promise.resolve(otherKey),
      onLogin: () => (loginStarted = true),
    });
    expect(result).toMatchObject({ ok: false, reason: 'host_key_mismatch' });
    expect(loginStarted).toBe(false);
    await sleep(100);
    expect(sshd.logins()).toBe(before);
  });
});

describe('connectSsh with a head start', () => {
  const connect = (port: number, headStart: StartedSocket) =>
    connectSsh(targetAt(port, 'head-start.test'), {
      knownHosts,
      pinned: knownHosts.pinned('head-start.test', port),
      connectTimeoutMs: 5_000,
      keepaliveIntervalMs: 0,
      paceReads: true,
      headStart,
    });

  it('logs in over a head start that goes to the target, with no other connection', async () => {
    const relay = await greetingRelay();
    try {
      const headStart = new StartedSocket('127.0.0.1', relay.port, true);
      // The greeting waits in the head start until ssh2 has it.
      await relay.forwarded;
      await sleep(20);
      const result = await connect(relay.port, headStart);
      expect(result.ok).toBe(true);
      expect(relay.connections()).toBe(1);
      if (result.ok) result.client.end();
      await new Promise((resolve) => headStart.socket.once('close', resolve));
    } finally {
      relay.close();
    }
  });

  it('closes a head start that goes elsewhere, and logs in at the target', async () => {
    const elsewhere = await tcpListener();
    try {
      const headStart = new StartedSocket('127.0.0.1', elsewhere.port, true);
      await expect.poll(() => elsewhere.accepted.length).toBe(1);
      const result = await connect(sshd.port, headStart);
      expect(result.ok).toBe(true);
      if (result.ok) result.client.end();
      // Closed by now, or once its end is read.
      const socket = elsewhere.accepted[0]!.resume();
      if (!socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
    } finally {
      elsewhere.close();
    }
  });

  it('reports the refusal of a head start that goes to the target', async () => {
    const port = await freePort();
    const headStart = new StartedSocket('127.0.0.1', port, true);
    await sleep(100); // refused by now
    // Something listens there now: only the head start's own refusal can fail the connection.
    const accepted: Socket[] = [];
    const late = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
    try {
      expect(await connect(port, headStart)).toEqual({
        ok: false,
        reason: 'connect_failed',
        message: `connection refused by head-start.test:${port}`,
      });
      expect(accepted).toHaveLength(0);
    } finally {
      late.close();
    }
  });
});

describe('connectSsh to a port that does not speak SSH', () => {
  // ssh2 reports each of these failures twice, the second time once the socket has closed: the
  // test waits for that close, and vitest fails it on an error that nothing handled.
  const connect = (port: number) =>
    connectSsh(targetAt(port), {
      knownHosts,
      pinned: Promise.resolve(null),
      connectTimeoutMs: 500,
      keepaliveIntervalMs: 0,
    });

  it('gives up with a timeout when the server accepts and says nothing', async () => {
    const listener = await tcpListener();
    try {
      expect(await connect(listener.port)).toEqual({
        ok: false,
        reason: 'timeout',
        message: `timed out connecting to 127.0.0.1:${listener.port}`,
      });
      await new Promise((resolve) => listener.accepted[0]!.once('close', resolve).resume());
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      listener.close();
    }
  });

  it('says the connection was reset when the server resets it before its greeting', async () => {
    // Reset on the client's greeting: ssh2 has the connection by then.
    const server = createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const port = await listenOnLoopback(server);
    try {
      expect(await connect(port)).toEqual({
        ok: false,
        reason: 'connect_failed',
        message: `connection to 127.0.0.1:${port} was reset`,
      });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      server.close();
    }
  });
});
