import { describe, expect, it } from 'vitest';
import type { Server } from '@sallyport/db';
import type { SftpConnection } from './connection.js';
import { ConnectionLost } from './errors.js';
import { SftpPool } from './pool.js';

const server = (id: string, updatedAt = 1) => ({ id, updatedAt: new Date(updatedAt) }) as Server;

/** A stand-in connection with the parts the pool uses. */
function fakeConnection(now: () => number) {
  const listeners: Array<() => void> = [];
  const conn = {
    alive: true,
    users: 0,
    lastUsed: now(),
    touch() {
      conn.lastUsed = now();
    },
    onClose(listener: () => void) {
      listeners.push(listener);
    },
    close() {
      conn.alive = false;
      listeners.forEach((l) => l());
    },
  };
  return conn;
}

function pool(idleTtlMs = 1_000) {
  let clock = 0;
  const made: ReturnType<typeof fakeConnection>[] = [];
  const sizes: number[] = [];
  const p = new SftpPool({
    idleTtlMs,
    now: () => clock,
    connect: () => {
      const conn = fakeConnection(() => clock);
      made.push(conn);
      return Promise.resolve(conn as unknown as SftpConnection);
    },
    onSize: (size) => sizes.push(size),
  });
  return { p, made, sizes, advance: (ms: number) => (clock += ms) };
}

describe('SftpPool', () => {
  it('shares one connection per user and server, and keys by the server version', async () => {
    const { p, made } = pool();
    const a = await p.acquire(server('s1'), 'u1');
    const b = await p.acquire(server('s1'), 'u1');
    expect(b.conn).toBe(a.conn);
    await p.acquire(server('s1'), 'u2');
    await p.acquire(server('s1', 2), 'u1'); // the server was edited: a new connection
    expect(made).toHaveLength(3);
    expect(p.size).toBe(3);
    await p.close();
  });

  it('drops a connection that dies, so the next request connects afresh', async () => {
    const { p, made } = pool();
    const first = await p.acquire(server('s1'), 'u1');
    first.release();
    made[0]!.close();
    expect(p.size).toBe(0);
    const second = await p.acquire(server('s1'), 'u1');
    expect(second.conn).not.toBe(first.conn);
    await p.close();
  });

  it('retries a read once on a fresh connection when the pooled one turns out dead', async () => {
    const { p, made } = pool();
    (await p.acquire(server('s1'), 'u1')).release();
    let calls = 0;
    const result = await p.run(
      server('s1'),
      'u1',
      (conn) => {
        calls += 1;
        if (calls === 1) {
          (conn as unknown as { close(): void }).close();
          return Promise.reject(new ConnectionLost('lost'));
        }
        return Promise.resolve('listed');
      },
      { retry: true },
    );
    expect(result).toBe('listed');
    expect(made).toHaveLength(2);
    await expect(
      p.run(server('s2'), 'u1', () => Promise.reject(new ConnectionLost('lost')), { retry: false }),
    ).rejects.toBeInstanceOf(ConnectionLost);
    await p.close();
  });

  it('closes connections idle past the TTL, never one in use', async () => {
    const { p, made, advance } = pool(1_000);
    const busy = await p.acquire(server('s1'), 'u1');
    (await p.acquire(server('s2'), 'u1')).release();
    advance(1_001);
    await p.sweep();
    expect(made.map((c) => c.alive)).toEqual([true, false]);
    busy.release();
    advance(1_001);
    await p.sweep();
    expect(made[0]!.alive).toBe(false);
    expect(p.size).toBe(0);
    await p.close();
  });
});
