import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type SshdHandle } from './harness/sshd.js';
import { ApiClient } from './support/api.js';
import { startEmbedded, type Embedded } from './support/sallyport.js';
import { sshdServer } from './support/target.js';

// A server's pinned host key through the API, in embedded mode against real OpenSSH servers: an
// admin sees it, forgets it or pins one deliberately; a changed key is refused until then.

// Another host's ECDSA key (ssh-keygen -t ecdsa), a type the test's sshd does not have.
const ECDSA_LINE =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBL6LXf5mNPHO0qZ/v6UFMJBoD+xX19rbQ6Xv86Wodeo47+pINZM3xGbCQKfhpmpYHdQyi01wBKCHpN7p0P8o57Y=';

const hostKeyOf = (sp: Embedded, serverId: string, client = sp.admin) =>
  client.request('GET', `/api/servers/${serverId}/host-key`);
const pin = (sp: Embedded, serverId: string, publicKey: unknown, client = sp.admin) =>
  client.request('PUT', `/api/servers/${serverId}/host-key`, { publicKey });
const forget = (sp: Embedded, serverId: string, client = sp.admin) =>
  client.request('DELETE', `/api/servers/${serverId}/host-key`);
const testConnection = async (sp: Embedded, serverId: string) =>
  (await sp.admin.request('POST', `/api/servers/${serverId}/test`)).body;
const auditOf = async (sp: Embedded, action: string) =>
  (await sp.admin.request('GET', `/api/audit?action=${action}`)).body.events;

describe('host keys, trusted on first use', () => {
  let sp: Embedded;
  let first: SshdHandle;
  let rebuilt: SshdHandle | undefined;
  let serverId: string;

  beforeAll(async () => {
    sp = await startEmbedded();
    first = await startSshd();
    serverId = (await sp.admin.createServer(sshdServer(first.info()))).id;
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), rebuilt?.stop()]);
    await sp?.stop();
  });

  it('shows the pinned key; after a rebuild an admin pins the new one or forgets the old', async () => {
    expect((await hostKeyOf(sp, serverId)).body).toEqual({
      host: first.host,
      port: first.port,
      policy: 'tofu',
      hostKey: null,
    });
    expect(await testConnection(sp, serverId)).toMatchObject({ ok: true, hostKeyPinned: true });
    const pinned = (await hostKeyOf(sp, serverId)).body.hostKey;
    expect(pinned).toEqual({
      keyType: 'ssh-ed25519',
      fingerprint: first.hostKeyFingerprints[0],
      publicKey: first.hostPublicKeys[0]!.split(' ').slice(0, 2).join(' '),
      pinnedAt: expect.any(String),
    });

    // The host is rebuilt: same address, new keys. Refused, and the message says what to do.
    await first.stop();
    rebuilt = await startSshd({ port: first.port });
    const refused = await testConnection(sp, serverId);
    expect(refused).toMatchObject({ ok: false, reason: 'host_key_mismatch' });
    expect(refused.message).toContain(rebuilt.hostKeyFingerprints[0]);
    expect(refused.message).toMatch(
      /admin can forget the pinned key or pin the new one \(Edit → Host key\)/,
    );

    // Pinned deliberately, as `ssh-keyscan -p PORT 127.0.0.1` prints it (host first).
    const keyscanLine = `[127.0.0.1]:${rebuilt.port} ${rebuilt.hostPublicKeys[0]}`;
    const pinnedNew = await pin(sp, serverId, keyscanLine);
    expect(pinnedNew.status).toBe(200);
    expect(pinnedNew.body.hostKey.fingerprint).toBe(rebuilt.hostKeyFingerprints[0]);
    expect(await testConnection(sp, serverId)).toMatchObject({
      ok: true,
      hostKeyPinned: false,
      hostKeyFingerprint: rebuilt.hostKeyFingerprints[0],
    });
    expect((await auditOf(sp, 'host_key.pin'))[0]).toMatchObject({
      actorName: 'admin',
      serverId,
      details: {
        fingerprint: rebuilt.hostKeyFingerprints[0],
        replaced: first.hostKeyFingerprints[0],
      },
    });

    // The same key again (pasted twice, say) replaces nothing: the pin keeps its date.
    const pinnedAgain = await pin(sp, serverId, rebuilt.hostPublicKeys[0]);
    expect(pinnedAgain.body.hostKey).toEqual(pinnedNew.body.hostKey);
    expect((await auditOf(sp, 'host_key.pin'))[0]).toMatchObject({
      details: { fingerprint: rebuilt.hostKeyFingerprints[0], replaced: null },
    });

    // Forgotten: the next connection pins what it is shown, as on first use.
    expect((await forget(sp, serverId)).status).toBe(204);
    expect((await hostKeyOf(sp, serverId)).body.hostKey).toBeNull();
    const again = await forget(sp, serverId);
    expect(again.status).toBe(404);
    expect(again.body.error.message).toBe(`no host key is pinned for 127.0.0.1 port ${first.port}`);
    expect(await testConnection(sp, serverId)).toMatchObject({ ok: true, hostKeyPinned: true });
    expect((await auditOf(sp, 'host_key.forget'))[0]).toMatchObject({
      serverId,
      details: { host: '127.0.0.1', port: first.port, fingerprint: rebuilt.hostKeyFingerprints[0] },
    });
  });

  it('lets a user see the key but not change it', async () => {
    await sp.admin.createUser({ username: 'hk-user', password: 'a long enough password' });
    const user = await ApiClient.loggedIn(sp.url, 'hk-user', 'a long enough password');
    const before = (await hostKeyOf(sp, serverId)).body;
    expect((await hostKeyOf(sp, serverId, user)).body).toEqual(before);
    expect((await pin(sp, serverId, first.hostPublicKeys[0], user)).status).toBe(403);
    expect((await forget(sp, serverId, user)).status).toBe(403);
    expect((await hostKeyOf(sp, serverId)).body).toEqual(before);
  });

  it.each([
    ['a private key', () => first.privateKey, /is a private key/],
    ['text that is no key', () => 'not a key at all', /is not an SSH public key/],
    ['a key cut short', () => first.hostPublicKeys[0]!.slice(0, 40), /is not an SSH public key/],
    ['two keys', () => `${first.hostPublicKeys[0]}\n${first.publicKey}`, /holds 2 lines/],
    ['only a comment', () => '# 127.0.0.1:22 SSH-2.0-OpenSSH_9.2', /is empty/],
    [
      'an ssh-keyscan line of another port',
      () => `[127.0.0.1]:1 ${first.hostPublicKeys[0]}`,
      /^publicKey: is the key of \[127\.0\.0\.1\]:1, not of \[127\.0\.0\.1\]:\d+ /,
    ],
    ['no text', () => '', /publicKey/],
    ['a number', () => 42, /publicKey/],
  ])('refuses %s with a 400 naming the field, and keeps the pinned key', async (_l, key, why) => {
    expect((await pin(sp, serverId, first.hostPublicKeys[0])).status).toBe(200);
    const before = (await hostKeyOf(sp, serverId)).body.hostKey;
    expect(before.fingerprint).toBe(first.hostKeyFingerprints[0]);
    const res = await pin(sp, serverId, key());
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'validation_failed',
      details: { field: 'publicKey' },
    });
    expect(res.body.error.message).toMatch(why);
    expect((await hostKeyOf(sp, serverId)).body.hostKey).toEqual(before);
  });

  it('asks the host for the pinned key type, and says so when the host has no such key', async () => {
    const both = await startSshd({ hostKeyTypes: ['ed25519', 'rsa'] });
    try {
      const { id } = await sp.admin.createServer(sshdServer(both.info()));
      const rsaLine = both.hostPublicKeys.find((k) => k.startsWith('ssh-rsa '))!;
      const rsa = (await pin(sp, id, rsaLine)).body.hostKey;
      expect(rsa.keyType).toBe('ssh-rsa');
      // The host also has an ed25519 key, which it would present by default.
      expect(await testConnection(sp, id)).toMatchObject({
        ok: true,
        hostKeyPinned: false,
        hostKeyFingerprint: rsa.fingerprint,
      });

      const loggedBefore = both.logs().length;

      // A key of a type the host does not have: refused, and the message says it is the type.
      const ecdsa = ECDSA_LINE;
      const pinnedEcdsa = (await pin(sp, id, ecdsa)).body.hostKey;
      const refused = await testConnection(sp, id);
      expect(refused).toMatchObject({ ok: false, reason: 'host_key_mismatch' });
      expect(refused.message).toContain(
        `an ${pinnedEcdsa.keyType} key is pinned (${pinnedEcdsa.fingerprint}), and the host presented no such key`,
      );
      // Another host's key of a type this one has: a changed key.
      await pin(sp, id, first.hostPublicKeys[0]);
      expect((await testConnection(sp, id)).message).toContain(
        `has changed: pinned ${first.hostKeyFingerprints[0]}`,
      );
      // Both refused before the password was sent.
      expect(both.logs().slice(loggedBefore)).not.toMatch(/password for/i);
    } finally {
      await both.stop();
    }
  });

  it('answers 404 for a server that does not exist', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const res of [
      await hostKeyOf(sp, missing),
      await pin(sp, missing, first.hostPublicKeys[0]),
      await forget(sp, missing),
      await hostKeyOf(sp, 'not-a-uuid'),
    ])
      expect(res).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });
});

describe('host keys, strict', () => {
  let sp: Embedded;
  let sshd: SshdHandle;

  beforeAll(async () => {
    [sp, sshd] = await Promise.all([
      startEmbedded({ SALLYPORT_HOST_KEY_POLICY: 'strict' }),
      startSshd(),
    ]);
  });
  afterAll(() => Promise.all([sp?.stop(), sshd?.stop()]));

  it('refuses a host until an admin pins its key, sending no password before', async () => {
    const { id } = await sp.admin.createServer(sshdServer(sshd.info()));
    expect((await hostKeyOf(sp, id)).body).toMatchObject({ policy: 'strict', hostKey: null });
    const refused = await testConnection(sp, id);
    expect(refused).toMatchObject({ ok: false, reason: 'host_key_mismatch' });
    expect(refused.message).toMatch(/is not pinned .* an admin can pin the host's key/);
    expect(sshd.logs()).not.toMatch(/password for/i);
    expect((await hostKeyOf(sp, id)).body.hostKey).toBeNull();

    expect((await pin(sp, id, sshd.hostPublicKeys[0])).status).toBe(200);
    expect(await testConnection(sp, id)).toMatchObject({
      ok: true,
      hostKeyPinned: false,
      hostKeyFingerprint: sshd.hostKeyFingerprints[0],
    });
  });
});
