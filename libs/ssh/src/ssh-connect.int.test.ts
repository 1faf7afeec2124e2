// connectSsh starts the TCP connection before the pinned host key has been read, and hands the
// socket to ssh2 once it has: whichever comes first, the outcome must be the same.
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type KnownHost } from '@sallyport/db';
import { startSshd, type SshdHandle } from '../../../tests/harness/sshd.js';
import { KnownHosts } from './known-hosts.js';
import { connectSsh, type SshTarget } from './ssh-connect.js';

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

const target = (port: number): SshTarget => ({
  host: '127.0.0.1',
  address: '127.0.0.1',
  port,
  username: sshd.user,
  auth: { password: sshd.password },
});
const connect = (port: number, pinned: Promise<KnownHost | null>) =>
  connectSsh(target(port), {
    knownHosts,
    pinned,
    connectTimeoutMs: 10_000,
    keepaliveIntervalMs: 0,
  });
const later = <T>(ms: number, value: T) => sleep(ms).then(() => value);

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('connectSsh', () => {
  it.each([
    ['at once', 0],
    ['after the server has sent its greeting', 300],
  ])('logs in when the pinned key is read %s', async (_, delayMs) => {
    const result = await connect(
      sshd.port,
      later(delayMs, knownHosts.pinned('127.0.0.1', sshd.port)),
    );
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(['pinned', 'match']).toContain(result.hostKey.kind);
      result.client.end();
    }
  });

  it.each([
    ['before the refusal', 0],
    ['after the refusal', 300],
  ])('reports a refused port when the pinned key comes %s', async (_, delayMs) => {
    const port = await closedPort();
    expect(await connect(port, later(delayMs, null))).toEqual({
      ok: false,
      reason: 'connect_failed',
      message: `connection refused by 127.0.0.1:${port}`,
    });
  });

  it('fails, and closes its socket, when the pinned key cannot be read', async () => {
    const accepted: Socket[] = [];
    const server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const lookup = sleep(200).then(() => Promise.reject(new Error('database unreachable')));
      await expect(connect(port, lookup)).rejects.toThrow('database unreachable');
      await expect.poll(() => accepted.length).toBe(1);
      await new Promise((resolve) => accepted[0]!.once('close', resolve).resume());
    } finally {
      for (const socket of accepted) socket.destroy();
      server.close();
    }
  });
});
