import { EventEmitter } from 'node:events';
import type { Client, SFTPWrapper } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { SftpConnection } from './connection.js';
import { ConnectionLost, OperationTimeout } from './errors.js';

/** An SSH client and SFTP session that never answer: a silently dead target. */
function deadTarget() {
  const client = Object.assign(new EventEmitter(), {
    ended: false,
    end() {
      this.ended = true;
    },
  });
  const sftp = Object.assign(new EventEmitter(), {
    stat: () => undefined,
    realpath: () => undefined,
  });
  return { client, sftp };
}

const connect = (opTimeoutMs: number) => {
  const { client, sftp } = deadTarget();
  const conn = new SftpConnection(client as unknown as Client, sftp as unknown as SFTPWrapper, {
    where: 'db-1:22',
    opTimeoutMs,
    now: () => 0,
  });
  return { conn, client, sftp };
};

describe('SftpConnection', () => {
  it('fails a request the target never answers, ends the connection, and fails the others', async () => {
    const { conn, client } = connect(20);
    const first = conn.call<unknown>((sftp, done) => sftp.stat('/a', done));
    const second = conn.call<unknown>((sftp, done) => sftp.realpath('/b', done));
    await expect(first).rejects.toBeInstanceOf(OperationTimeout);
    await expect(first).rejects.toThrow('db-1:22 did not answer within 20 ms');
    await expect(second).rejects.toBeInstanceOf(OperationTimeout);
    expect(client.ended).toBe(true);
    expect(conn.alive).toBe(false);
    await expect(conn.call<unknown>((sftp, done) => sftp.stat('/c', done))).rejects.toBeInstanceOf(
      OperationTimeout,
    );
  });

  it('fails every pending request at once when the connection closes', async () => {
    const { conn, client } = connect(60_000);
    let told = 0;
    conn.onClose(() => (told += 1));
    const pending = [1, 2, 3].map(() => conn.call<unknown>((sftp, done) => sftp.stat('/a', done)));
    client.emit('close');
    for (const request of pending) {
      await expect(request).rejects.toBeInstanceOf(ConnectionLost);
      await expect(request).rejects.toThrow('the connection to db-1:22 was lost');
    }
    expect(told).toBe(1);
  });

  it('settles a request once, whatever the target does after', async () => {
    const { conn } = connect(60_000);
    const answered = conn.call<string>((_sftp, done) => {
      done(null, '/home/a');
      done(new Error('late'));
    });
    await expect(answered).resolves.toBe('/home/a');
  });
});
