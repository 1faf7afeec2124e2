// Self-test of the harness: the shared sshd accepts every credential it hands out, the test
// user's shell behaves, and a restarted sshd with new host keys is told apart by fingerprint.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startSshd, type SshdHandle } from './sshd.js';

const sshd = inject('sshd');

interface Connected {
  client: Client;
  /** The host key fingerprint as OpenSSH prints it, computed from what ssh2 received. */
  hostFingerprint: string;
}

function connect(config: ConnectConfig): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostFingerprint = '';
    client.once('ready', () => resolve({ client, hostFingerprint }));
    client.once('error', reject);
    client.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      readyTimeout: 10_000,
      ...config,
      hostVerifier: (key: Buffer) => {
        const digest = createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
        hostFingerprint = `SHA256:${digest}`;
        return true;
      },
    });
  });
}

function collect(stream: ClientChannel): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    let out = '';
    let code: number | null = null;
    stream.on('data', (d: Buffer) => (out += d.toString()));
    stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
    stream.on('exit', (c: number | null) => (code = c));
    stream.on('close', () => resolve({ out, code }));
  });
}

function exec(
  client: Client,
  command: string,
  pty = false,
): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const options = pty ? { pty: { rows: 24, cols: 80, term: 'xterm' } } : {};
    client.exec(command, options, (err, stream) => (err ? reject(err) : resolve(collect(stream))));
  });
}

const clients: Client[] = [];
const servers: SshdHandle[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.end());
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function session(config: ConnectConfig): Promise<Connected> {
  const connected = await connect(config);
  clients.push(connected.client);
  return connected;
}

describe('shared sshd', () => {
  it.each([
    ['password', { password: sshd.password }],
    ['private key', { privateKey: sshd.privateKey }],
    ['encrypted key', { privateKey: sshd.encryptedPrivateKey, passphrase: sshd.passphrase }],
  ])('accepts the %s and runs a command', async (_, credentials) => {
    const { client, hostFingerprint } = await session(credentials);
    await expect(exec(client, 'echo ok')).resolves.toEqual({ out: 'ok\n', code: 0 });
    expect(sshd.hostKeyFingerprints).toContain(hostFingerprint);
  });

  it('rejects a wrong password', async () => {
    await expect(connect({ password: 'wrong' })).rejects.toThrow(/authentication methods failed/);
  });

  it('gives commands a working pty and exit codes', async () => {
    const { client } = await session({ password: sshd.password });
    await expect(exec(client, 'stty size', true)).resolves.toMatchObject({ out: '24 80\r\n' });
    await expect(exec(client, 'exit 3')).resolves.toMatchObject({ code: 3 });
  });

  it('runs an interactive shell with a bare prompt', async () => {
    const { client } = await session({ password: sshd.password });
    const shell = await new Promise<ClientChannel>((resolve, reject) =>
      client.shell({ rows: 30, cols: 100 }, (err, s) => (err ? reject(err) : resolve(s))),
    );
    const result = collect(shell);
    shell.write('stty size\n');
    shell.write('exit 3\n');
    const { out, code } = await result;
    expect(code).toBe(3);
    expect(out).toContain('30 100');
    expect(out).toMatch(/^\$ /m);
    expect(out).not.toContain('\x1b[?2004h'); // bracketed paste is off
  });
});

describe('a second sshd', () => {
  it('presents different host keys, and the same port can come back with new ones', async () => {
    const second = await startSshd();
    servers.push(second);
    expect(second.port).not.toBe(sshd.port);
    expect(second.hostKeyFingerprints).toHaveLength(1);
    expect(second.hostKeyFingerprints[0]).not.toBe(sshd.hostKeyFingerprints[0]);
    const seen = await session({ port: second.port, privateKey: second.privateKey });
    expect(seen.hostFingerprint).toBe(second.hostKeyFingerprints[0]);
    seen.client.end();

    // Same address, new identity: what a client must report as a changed host key.
    await second.stop();
    const third = await startSshd({ port: second.port, hostKeyTypes: ['ecdsa'] });
    servers.push(third);
    const again = await session({ port: third.port, password: third.password });
    expect(again.hostFingerprint).toBe(third.hostKeyFingerprints[0]);
    expect(again.hostFingerprint).not.toBe(second.hostKeyFingerprints[0]);
  });

  it('keeps its identity across a restart when given a host key dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sallyport-hostkeys-'));
    try {
      const first = await startSshd({ hostKeyDir: dir });
      await first.kill();
      expect(first.logs()).toMatch(/Server listening on 127\.0\.0\.1 port/);
      await first.stop();
      const restarted = await startSshd({ hostKeyDir: dir, port: first.port });
      servers.push(restarted);
      expect(restarted.hostKeyFingerprints).toEqual(first.hostKeyFingerprints);
      const seen = await session({ port: restarted.port, password: restarted.password });
      expect(seen.hostFingerprint).toBe(first.hostKeyFingerprints[0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
