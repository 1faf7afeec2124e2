// connectForSession prepares the shell (`alongside`) during the login rather than during the key
// exchange: the preparation starts once the host key has been accepted and pinned, and runs once,
// also for an attempt that fails before it gets that far.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, generateKey } from '@sallyport/crypto';
import { openDatabase, type Database, type Server } from '@sallyport/db';
import {
  KnownHosts,
  TargetPolicy,
  serverSecretContext,
  type ServerConnectDeps,
} from '@sallyport/ssh';
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
      name: `${host}:${port}`,
      host,
      port,
      username: sshd.user,
      authType: 'password',
      secretEncrypted: keyring.encrypt(sshd.password, serverSecretContext(id, 'secret')),
    },
  });
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

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
    const server = await registerServer('127.0.0.1', await closedPort());
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
