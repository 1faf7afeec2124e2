// connectForSession prepares the shell (`alongside`) during the login rather than during the key
// exchange: the preparation starts once the host key has been accepted and pinned, and runs once,
// also for an attempt that fails before it gets that far. A head start (a TCP connection made
// before the server's row was read) is used where the row still leads, and closed otherwise.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, generateKey } from '@sallyport/crypto';
import { openDatabase, type Database, type Server } from '@sallyport/db';
import {
  KnownHosts,
  TargetPolicy,
  serverSecretContext,
  StartedSocket,
  type ServerConnectDeps,
  type SshTarget,
} from '@sallyport/ssh';
import { freePort, tcpListener } from '../../../tests/harness/processes.js';
import { startSshd, type SshdHandle } from '../../../tests/harness/sshd.js';
import { connectForSession } from './session-connect.js';

let sshd: SshdHandle;
let db: Database;
let deps: ServerConnectDeps;
const keyring = new Keyring(generateKey());

beforeAll(async () => {
  [sshd, db] = await Promise.all([
    startSshd(),
    openDatabase({ kind: 'pglite', dataDir: 'memory://' }),
  ]);
  deps = {
    keyring,
    knownHosts: new KnownHosts(db.prisma, 'tofu'),
    policy: new TargetPolicy({ deny: [] }),
    ssh: { connectTimeoutMs: 5_000, keepaliveIntervalMs: 0 },
  };
});
afterAll(async () => {
  await sshd.stop();
  await db.close();
});

/** A registered server with the test user's password. */
async function registerServer(host: string, port: number): Promise<Server> {
  const id = crypto.randomUUID();
  return db.prisma.server.create({
    data: {
      id,
      name: `${host}:${port} ${id}`,
      host,
      port,
      username: sshd.user,
      authType: 'password',
      secretEncrypted: keyring.encrypt(sshd.password, serverSecretContext(id, 'secret')),
    },
  });
}

const closed = (socket: Socket) =>
  socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', resolve));

describe('connectForSession', () => {
  it('starts the preparation once the host key is accepted and pinned, and runs it once', async () => {
    // No key is pinned for the host yet: the connection pins it.
    const server = await registerServer('127.0.0.1', sshd.port);
    const starts: { pinned: boolean }[] = [];
    const login = await connectForSession(server, deps, async () => {
      const pinned = await deps.knownHosts.pinned('127.0.0.1', sshd.port);
      starts.push({ pinned: pinned !== null });
      return 'prepared';
    });
    expect(login).toMatchObject({ result: { ok: true }, alongside: 'prepared' });
    if (login.server && login.result.ok) login.result.client.end();
    expect(starts).toEqual([{ pinned: true }]);
  });

  it('runs the preparation once when the connection fails before any host key', async () => {
    const server = await registerServer('127.0.0.1', await freePort());
    let runs = 0;
    const login = await connectForSession(server, deps, async () => {
      runs += 1;
      return 'prepared';
    });
    expect(login).toMatchObject({
      result: { ok: false, reason: 'connect_failed' },
      alongside: 'prepared',
    });
    expect(runs).toBe(1);
  });
});

describe('connectForSession with a head start', () => {
  const prepare = async () => 'prepared';

  it('logs in over the head start when the server is where it was, and says where it went', async () => {
    const relay = await tcpListener({ host: '127.0.0.1', port: sshd.port });
    try {
      const server = await registerServer('127.0.0.1', relay.port);
      const headStart = new StartedSocket('127.0.0.1', relay.port, false);
      const planned: (SshTarget | null)[] = [];
      const login = await connectForSession(server, deps, prepare, {
        headStart,
        onPlanned: (target) => planned.push(target),
      });
      expect(login).toMatchObject({ result: { ok: true }, alongside: 'prepared' });
      if (login.server && login.result.ok) login.result.client.end();
      expect(relay.accepted).toHaveLength(1);
      expect(planned).toMatchObject([{ address: '127.0.0.1', port: relay.port }]);
    } finally {
      relay.close();
    }
  });

  it('closes the head start and logs in where the server is now when it has moved', async () => {
    const oldPlace = await tcpListener();
    try {
      const server = await registerServer('127.0.0.1', sshd.port);
      const headStart = new StartedSocket('127.0.0.1', oldPlace.port, false);
      await expect.poll(() => oldPlace.accepted.length).toBe(1);
      const login = await connectForSession(server, deps, prepare, { headStart });
      expect(login).toMatchObject({ result: { ok: true }, alongside: 'prepared' });
      if (login.server && login.result.ok) login.result.client.end();
      await closed(oldPlace.accepted[0]!.resume());
    } finally {
      oldPlace.close();
    }
  });

  it('closes the head start, and says the connection goes nowhere, for a server gone or refused', async () => {
    const target = await tcpListener();
    try {
      const refusing = {
        ...deps,
        policy: new TargetPolicy({ deny: [{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }] }),
      };
      const server = await registerServer('127.0.0.1', target.port);
      for (const [row, connectDeps] of [
        [null, deps],
        [server, refusing],
      ] as const) {
        const headStart = new StartedSocket('127.0.0.1', target.port, false);
        const planned: (SshTarget | null)[] = [];
        const login = await connectForSession(row, connectDeps, prepare, {
          headStart,
          onPlanned: (to) => planned.push(to),
        });
        expect(login.result.ok).toBe(false);
        expect(planned).toEqual([null]);
        await closed(headStart.socket);
      }
    } finally {
      target.close();
    }
  });
});
