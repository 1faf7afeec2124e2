import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from './harness/processes.js';
import { startSshd } from './harness/sshd.js';
import { ApiClient } from './support/api.js';
import { ADMIN_USER, startEmbedded, type Embedded } from './support/sallyport.js';
import { marker, sshdServer } from './support/target.js';
import { TerminalClient, UpgradeRefused } from './support/terminal-client.js';

// Embedded mode as a user runs it: one process, PGlite, in-memory bus, real OpenSSH.
const sshd = inject('sshd');
let sp: Embedded;
let serverId: string;

beforeAll(async () => {
  sp = await startEmbedded();
  serverId = (await sp.admin.createServer(sshdServer(sshd))).id;
});
afterAll(() => sp?.stop());

const open = (
  query: Record<string, string | number> = {},
  headers = { cookie: sp.admin.cookie, origin: sp.admin.origin },
) => TerminalClient.open(sp.url, { serverId, cols: 80, rows: 24, ...query }, headers);

describe('a terminal in embedded mode', () => {
  it('runs commands, resizes, and reports the exit code in the socket and the session row', async () => {
    const term = await open();
    await term.waitForControl('ready');
    const hello = marker('hello');
    term.type(`echo ${hello}\n`);
    await term.waitForOutput(`\n${hello}\r\n`);

    term.sendControl({ type: 'resize', cols: 132, rows: 43 });
    term.type('stty size\n');
    await term.waitForOutput('\n43 132\r\n');

    term.type('exit 3\n');
    const exit = await term.waitForControl('exit');
    expect(exit).toMatchObject({
      reason: 'exit',
      code: 3,
      message: 'the shell exited with code 3',
    });
    expect(await term.waitForClose()).toBe(1000);

    const row = await waitFor(async () => {
      const s = await sp.admin.session(term.sessionId);
      return s.status === 'ended' ? s : undefined;
    });
    expect(row).toMatchObject({
      status: 'ended',
      endReason: 'exit',
      exitCode: 3,
      serverId,
      cols: 80,
      rows: 24,
    });
    expect(row.bytesIn).toBeGreaterThan(0);
    expect(row.bytesOut).toBeGreaterThan(0);
    expect(row.connectedAt).not.toBeNull();
  });

  it('tests a server connection and shows the pinned host key', async () => {
    const res = await sp.admin.request('POST', `/api/servers/${serverId}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true });
    expect(sshd.hostKeyFingerprints).toContain(res.body.hostKeyFingerprint);
  });

  it.each([
    ['a private key', () => ({ type: 'key', privateKey: sshd.privateKey })],
    [
      'an encrypted private key and its passphrase',
      () => ({ type: 'key', privateKey: sshd.encryptedPrivateKey, passphrase: sshd.passphrase }),
    ],
  ])('authenticates with %s', async (_label, auth) => {
    const server = await sp.admin.createServer(sshdServer(sshd, { auth: auth() }));
    const res = await sp.admin.request('POST', `/api/servers/${server.id}/test`);
    expect(res.body).toMatchObject({
      ok: true,
      message: `connected to ${sshd.host}:${sshd.port} and authenticated as ${sshd.user}`,
    });
  });

  it('never returns a server secret', async () => {
    const res = await sp.admin.request('GET', `/api/servers/${serverId}`);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain(sshd.password);
    expect(res.body.server).toMatchObject({
      authType: 'password',
      host: sshd.host,
      port: sshd.port,
    });
  });
});

describe('bad input gets a clear error and disturbs nothing else', () => {
  it('answers a wrong password and an unknown user alike', async () => {
    const client = new ApiClient(sp.url);
    const wrong = await client.request('POST', '/api/auth/login', {
      username: ADMIN_USER,
      password: 'not-the-password',
    });
    const unknown = await client.request('POST', '/api/auth/login', {
      username: 'nobody-here',
      password: 'not-the-password',
    });
    expect(wrong.status).toBe(401);
    expect(unknown).toEqual(wrong);
    expect(wrong.body.error.message).toBe('Invalid username or password');
  });

  it('refuses an unauthenticated terminal before any SSH work', async () => {
    const before = await sp.admin.request('GET', '/api/sessions');
    const attempt = open({}, { cookie: '', origin: sp.admin.origin });
    await expect(attempt).rejects.toThrow(UpgradeRefused);
    await expect(attempt).rejects.toMatchObject({ status: 401 });
    const after = await sp.admin.request('GET', '/api/sessions');
    expect(after.body.sessions).toHaveLength(before.body.sessions.length);
  });

  it('refuses a terminal from a foreign Origin before the upgrade', async () => {
    await expect(
      open({}, { cookie: sp.admin.cookie, origin: 'https://evil.example' }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('refuses a cross-site state change', async () => {
    const res = await fetch(`${sp.url}/api/servers`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: sp.admin.cookie,
        origin: 'https://evil.example',
      },
      body: JSON.stringify(sshdServer(sshd)),
    });
    expect(res.status).toBe(403);
  });

  it.each([
    ['host', { host: '-oProxyCommand=sh' }, 'must not begin with "-"'],
    ['host', { host: 'db\n1.example' }, 'must not contain control characters'],
    ['host', { host: 'two words' }, 'must be a hostname or an IP address'],
    ['username', { username: '-l root' }, 'must not begin with "-"'],
    ['username', { username: 'deploy\u0007' }, 'must not contain control characters'],
    ['port', { port: 70000 }, ''],
    ['auth.privateKey', { auth: { type: 'key', privateKey: 'not a key' } }, 'is not a private key'],
    [
      'auth.passphrase',
      { auth: { type: 'key', privateKey: sshd.encryptedPrivateKey, passphrase: 'wrong' } },
      'is missing or wrong',
    ],
    [
      'auth.passphrase',
      { auth: { type: 'key', privateKey: sshd.encryptedPrivateKey } },
      'is missing or wrong',
    ],
  ])('refuses a server whose %s is bad (case %#)', async (field, override, message) => {
    const res = await sp.admin.request('POST', '/api/servers', sshdServer(sshd, override));
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe(field);
    expect(res.body.error.message).toContain(`${field}: ${message}`);
  });

  it('answers an unknown server with 404 over HTTP, and with a reason in the terminal', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await sp.admin.request('GET', `/api/servers/${unknown}`)).status).toBe(404);
    expect((await sp.admin.request('GET', '/api/servers/not-a-uuid')).status).toBe(404);
    // Not an id at all: refused before the upgrade.
    await expect(open({ serverId: 'not-a-uuid' })).rejects.toMatchObject({ status: 404 });
    // An id of no server: the socket is told why, which a browser could not learn from a status,
    // and no session is left behind.
    const sessionCount = async () =>
      (await sp.admin.request('GET', '/api/sessions?scope=all&limit=500')).body.sessions.length;
    const before = await sessionCount();
    const term = await open({ serverId: unknown });
    expect(await term.waitForControl('exit')).toMatchObject({
      reason: 'refused',
      message: 'server not found',
    });
    expect(await term.waitForClose()).toBe(1000);
    expect(term.control.map((m) => m.type)).toEqual(['exit']);
    expect(await sessionCount()).toBe(before);
  });

  it('reports a refused port in the terminal and the session row', async () => {
    const closed = await sp.admin.createServer(sshdServer(sshd, { port: 1 }));
    const term = await open({ serverId: closed.id });
    const exit = await term.waitForControl('exit');
    expect(exit).toMatchObject({ reason: 'connect_failed' });
    expect(exit.message).toContain(`connection refused by ${sshd.host}:1`);
    const row = await waitFor(async () => {
      const s = await sp.admin.session(term.sessionId);
      return s.endReason ? s : undefined;
    });
    expect(row).toMatchObject({ status: 'ended', endReason: 'connect_failed' });
  });

  it('refuses a target in a denied range (cloud metadata) without connecting', async () => {
    const metadata = await sp.admin.createServer(
      sshdServer(sshd, { host: '169.254.169.254', port: 22 }),
    );
    const term = await open({ serverId: metadata.id });
    const exit = await term.waitForControl('exit');
    expect(exit).toMatchObject({ reason: 'target_denied' });
    expect(exit.message).toContain('not allowed by the target policy');
  });

  it('reports a wrong SSH password in the terminal and the session row', async () => {
    const wrong = await sp.admin.createServer(
      sshdServer(sshd, { auth: { type: 'password', password: 'definitely-wrong' } }),
    );
    const term = await open({ serverId: wrong.id });
    const exit = await term.waitForControl('exit');
    expect(exit).toMatchObject({
      reason: 'auth_failed',
      message: `authentication failed for ${sshd.user}@${sshd.host}`,
    });
    const row = await waitFor(async () => {
      const s = await sp.admin.session(term.sessionId);
      return s.endReason ? s : undefined;
    });
    expect(row.endReason).toBe('auth_failed');
  });

  it('refuses malformed and oversized frames and bad sizes, while another session carries on', async () => {
    const bystander = await open();
    const term = await open();
    await Promise.all([bystander.waitForControl('ready'), term.waitForControl('ready')]);

    term.sendControl('{"type": "resize", cols: 80');
    term.sendControl({ type: 'resize', cols: 0, rows: 0 });
    term.sendControl({ type: 'resize', cols: 100000, rows: 100000 });
    await waitFor(() => term.control.filter((m) => m.type === 'error').length === 3);
    expect(term.control.filter((m) => m.type === 'error').map((m) => m.code)).toEqual([
      'bad_message',
      'invalid_resize',
      'invalid_resize',
    ]);
    // Still alive after the refusals, at its original size.
    term.type('stty size\n');
    await term.waitForOutput('\n24 80\r\n');

    term.type('x'.repeat(200 * 1024));
    expect(await term.waitForClose()).toBe(1009);

    const alive = marker('alive');
    bystander.type(`echo ${alive}\n`);
    await bystander.waitForOutput(`\n${alive}\r\n`);
    bystander.close();
  });

  it('refuses a changed host key before authenticating, naming both fingerprints', async () => {
    const first = await startSshd();
    const server = await sp.admin.createServer(sshdServer(first.info()));
    const pinned = await sp.admin.request('POST', `/api/servers/${server.id}/test`);
    expect(pinned.body).toMatchObject({
      ok: true,
      hostKeyPinned: true,
      hostKeyFingerprint: first.hostKeyFingerprints[0],
    });
    await first.stop();

    const impostor = await startSshd({ port: first.port });
    try {
      const term = await open({ serverId: server.id });
      const exit = await term.waitForControl('exit');
      expect(exit.reason).toBe('host_key_mismatch');
      expect(exit.message).toContain(first.hostKeyFingerprints[0]!);
      expect(exit.message).toContain(impostor.hostKeyFingerprints[0]!);
      // sshd logs every password attempt; there must be none.
      expect(impostor.logs()).not.toMatch(/password for/i);
    } finally {
      await impostor.stop();
    }
  });

  it('logs out: the cookie stops working', async () => {
    const client = new ApiClient(sp.url);
    await client.login(ADMIN_USER, sp.adminPassword);
    expect((await client.request('GET', '/api/auth/me')).status).toBe(200);
    const cookie = client.cookie;
    expect((await client.request('POST', '/api/auth/logout')).status).toBe(204);
    client.cookie = cookie;
    expect((await client.request('GET', '/api/auth/me')).status).toBe(401);
  });
});
