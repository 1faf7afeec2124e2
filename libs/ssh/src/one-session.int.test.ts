import ssh2, { type Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type SshdHandle } from '../../../tests/harness/sshd.js';
import { oneSessionOnly } from './one-session.js';

let sshd: SshdHandle;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(() => sshd.stop());

function connect(): Promise<Client> {
  const client = new ssh2.Client();
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      password: sshd.password,
      hostVerifier: () => true,
    });
  });
}

function run(client: Client, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      let out = '';
      channel.on('data', (data: Buffer) => (out += data.toString()));
      channel.on('close', () => resolve(out));
    });
  });
}

const hostKeysAnswered = (client: Client) =>
  new Promise<void>((resolve) => client.once('hostkeys', () => resolve()));

describe('oneSessionOnly', () => {
  it('keeps the session it follows working and refuses any other', async () => {
    const client = await connect();
    try {
      const answered = hostKeysAnswered(client);
      const first = run(client, 'echo first-session');
      oneSessionOnly(client);
      expect(await first).toBe('first-session\n');
      await answered;
      await expect(run(client, 'echo second-session')).rejects.toThrow();
    } finally {
      client.end();
    }
  });

  it('leaves a connection without it free to open more sessions', async () => {
    const client = await connect();
    try {
      const answered = hostKeysAnswered(client);
      expect(await run(client, 'echo first-session')).toBe('first-session\n');
      await answered;
      expect(await run(client, 'echo second-session')).toBe('second-session\n');
    } finally {
      client.end();
    }
  });
});
