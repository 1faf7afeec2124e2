// The sftp-worker's internal API against the real OpenSSH test server, driven as a gateway
// would: signed requests, path rules on canonical paths, switches, audit.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../../tests/harness/processes.js';
import { ensureTestUser, startSshd } from '../../../tests/harness/sshd.js';
import {
  chownToTestUser,
  startSftpFixture,
  userDir,
  type SftpFixture,
} from '../../../tests/support/sftp-fixture.js';

const sshd = inject('sshd');
let fx: SftpFixture;
let dir: { path: string; remove: () => Promise<void> };
let serverId: string;
let confinedId: string;

beforeAll(async () => {
  fx = await startSftpFixture();
  const { home } = await ensureTestUser();
  dir = await userDir(home, 'sftp-int');
  // root/ is the allowed root; root2/ shares its prefix; root/escape leads out to /etc.
  for (const sub of ['root', 'root2', 'root/inner']) {
    await mkdir(join(dir.path, sub), { recursive: true });
    await chownToTestUser(join(dir.path, sub));
  }
  await writeFile(join(dir.path, 'root2', 'secret.txt'), 'sibling');
  await symlink('/etc', join(dir.path, 'root', 'escape'));
  await symlink(join(dir.path, 'root', 'inner'), join(dir.path, 'root', 'inside-link'));
  serverId = (await fx.addServer(sshd)).id;
  confinedId = (await fx.addServer(sshd, { sftpRoots: [join(dir.path, 'root')] })).id;
});
afterAll(async () => {
  await fx?.stop();
  await dir?.remove();
});

const json = async (res: Response) => ({ status: res.status, body: await res.json() });

describe('the sftp-worker', () => {
  it('refuses a request without a valid gateway signature', async () => {
    const path = `/v1/servers/${serverId}/files/list`;
    const unsigned = await fetch(fx.worker.url + path);
    expect(await json(unsigned)).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthenticated', message: 'the request is not signed' } },
    });
    const forged = await fetch(fx.worker.url + path, {
      headers: {
        'x-sallyport-identity': 'e30',
        'x-sallyport-timestamp': String(Date.now()),
        'x-sallyport-signature': 'AAAA',
      },
    });
    expect(forged.status).toBe(401);
  });

  it('uploads under a temporary name, lists, downloads and edits with a conflict check', async () => {
    const target = join(dir.path, 'root', 'hello world ✓.txt');
    const data = randomBytes(300_000);
    const up = await fx.call(serverId, 'upload', { path: target }, { body: data });
    expect(await json(up)).toEqual({ status: 201, body: { path: target, size: data.length } });
    expect(await readFile(target)).toEqual(data);

    const again = await fx.call(serverId, 'upload', { path: target }, { body: 'x' });
    expect(await json(again)).toMatchObject({
      status: 409,
      body: { error: { details: { exists: true } } },
    });

    const listed = await json(await fx.call(serverId, 'list', { path: join(dir.path, 'root') }));
    expect(listed.status).toBe(200);
    expect((listed.body.entries as any[]).map((e) => e.name)).toEqual([
      'inner',
      'escape',
      'hello world ✓.txt',
      'inside-link',
    ]);
    const file = (listed.body.entries as any[]).find((e) => e.name === 'hello world ✓.txt');
    expect(file).toMatchObject({
      type: 'file',
      size: data.length,
      owner: 'sptest',
      permissions: '-rw-r--r--',
    });
    expect((listed.body.entries as any[]).find((e) => e.name === 'escape')).toMatchObject({
      type: 'link',
      target: 'dir',
    });

    const down = await fx.call(serverId, 'download', { path: target });
    expect(down.status).toBe(200);
    expect(down.headers.get('content-disposition')).toContain(
      "filename*=UTF-8''hello%20world%20%E2%9C%93.txt",
    );
    expect(Buffer.from(await down.arrayBuffer())).toEqual(data);

    const textFile = join(dir.path, 'root', 'notes.txt');
    await fx.call(serverId, 'upload', { path: textFile }, { body: 'first\n' });
    const opened = await json(await fx.call(serverId, 'text', { path: textFile }));
    expect(opened.body).toMatchObject({
      content: 'first\n',
      hash: createHash('sha256').update('first\n').digest('hex'),
    });
    await writeFile(textFile, 'changed meanwhile\n');
    const stale = await fx.call(
      serverId,
      'upload',
      { path: textFile, ifMatch: opened.body.hash },
      { body: 'mine\n' },
    );
    expect(await json(stale)).toMatchObject({
      status: 409,
      body: { error: { details: { changed: true } } },
    });
    const fresh = await json(await fx.call(serverId, 'text', { path: textFile }));
    const saved = await fx.call(
      serverId,
      'upload',
      { path: textFile, ifMatch: fresh.body.hash },
      { body: 'mine\n' },
    );
    expect(saved.status).toBe(201);
    expect(await readFile(textFile, 'utf8')).toBe('mine\n');
  });

  it('confines a server to its roots, refusing every way out with a 403 that is audited', async () => {
    const root = join(dir.path, 'root');
    const attempts: Array<[string, string]> = [
      [`${root}/../root2/secret.txt`, 'the path must not contain ".."'],
      [`${root}/inner/..`, 'the path must not contain ".."'],
      [`${root}/a\0b`, 'the path contains a NUL character'],
      ['/etc/passwd', 'the path is outside the allowed roots'],
      [join(dir.path, 'root2', 'secret.txt'), 'the path is outside the allowed roots'],
      [`${root}/escape/passwd`, 'the path is outside the allowed roots'],
      [`${root}/escape`, 'the path is outside the allowed roots'],
    ];
    for (const [path, reason] of attempts) {
      const res = await json(await fx.call(confinedId, 'download', { path }));
      expect(res, path).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect(res.body.error.message).toContain(reason);
    }
    const events = await fx.db.prisma.auditEvent.findMany({
      where: { action: 'file.denied', serverId: confinedId },
    });
    expect(events.map((e) => (e.details as any).path)).toEqual(
      attempts.map(([p]) => p.replace('\0', '\\0')),
    );
    expect(events[0]).toMatchObject({ actorId: fx.user.id, actorName: fx.user.username });

    // Inside the root, a link that stays inside is fine, and so are writes.
    const inside = await json(await fx.call(confinedId, 'list', { path: `${root}/inside-link` }));
    expect(inside).toMatchObject({
      status: 200,
      body: { path: join(root, 'inner'), parent: root },
    });
    const top = await json(await fx.call(confinedId, 'list', {}));
    expect(top.body).toMatchObject({ path: root, parent: null, roots: [root] });
    const up = await fx.call(confinedId, 'upload', { path: `${root}/escape/evil` }, { body: 'x' });
    expect(up.status).toBe(403);
    const rootDelete = await fx.call(confinedId, 'delete', { path: root, recursive: true });
    expect(rootDelete.status).toBe(403);
    // Deleting the link itself (not what it leads to) is allowed.
    expect((await fx.call(confinedId, 'delete', { path: `${root}/escape` })).status).toBe(200);
    await expect(readlink(join(root, 'escape'))).rejects.toThrow();
    expect((await stat('/etc/passwd')).isFile()).toBe(true);
  });

  it('obeys the read-only and SFTP-off switches', async () => {
    const readOnly = (await fx.addServer(sshd, { sftpReadOnly: true })).id;
    const off = (await fx.addServer(sshd, { sftpEnabled: false })).id;
    const path = join(dir.path, 'root', 'ro.txt');
    expect((await fx.call(readOnly, 'list', { path: dir.path })).status).toBe(200);
    for (const [op, params] of [
      ['upload', { path }],
      ['mkdir', { path }],
      ['rename', { from: path, to: `${path}.2` }],
      ['delete', { path }],
      ['chmod', { path, mode: '600' }],
    ] as const) {
      const res = await fx.call(readOnly, op, params, op === 'upload' ? { body: 'x' } : {});
      expect(await json(res), op).toMatchObject({
        status: 403,
        body: { error: { message: expect.stringContaining('read-only') } },
      });
    }
    expect((await fx.call(off, 'list', { path: dir.path })).status).toBe(403);
    expect((await fx.call(off, 'download', { path })).status).toBe(403);
  });

  it('creates, renames, changes the mode of and deletes recursively', async () => {
    const base = join(dir.path, 'root', 'ops');
    expect((await fx.call(serverId, 'mkdir', { path: base })).status).toBe(201);
    expect((await fx.call(serverId, 'mkdir', { path: `${base}/sub` })).status).toBe(201);
    await fx.call(serverId, 'upload', { path: `${base}/sub/a.txt` }, { body: 'a' });
    const moved = await fx.call(serverId, 'rename', {
      from: `${base}/sub/a.txt`,
      to: `${base}/b.txt`,
    });
    expect(moved.status).toBe(200);
    expect((await fx.call(serverId, 'chmod', { path: `${base}/b.txt`, mode: '600' })).status).toBe(
      200,
    );
    expect((await stat(`${base}/b.txt`)).mode & 0o777).toBe(0o600);
    const notEmpty = await json(await fx.call(serverId, 'delete', { path: base }));
    expect(notEmpty).toMatchObject({
      status: 409,
      body: { error: { details: { notEmpty: true } } },
    });
    expect(await json(await fx.call(serverId, 'delete', { path: base, recursive: true }))).toEqual({
      status: 200,
      body: { path: base, removed: 3 },
    });
    const actions = (
      await fx.db.prisma.auditEvent.findMany({
        where: { serverId, action: { startsWith: 'file.' } },
      })
    ).map((e) => [e.action, (e.details as any).path ?? (e.details as any).from]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['file.mkdir', base],
        ['file.rename', `${base}/sub/a.txt`],
        ['file.chmod', `${base}/b.txt`],
        ['file.delete', base],
      ]),
    );
  });

  it('verifies host keys as the session worker does: a changed key is refused before any credential', async () => {
    const target = await startSshd();
    try {
      await fx.db.prisma.knownHost.create({
        data: {
          host: target.host,
          port: target.port,
          keyType: 'ssh-ed25519',
          fingerprint: 'SHA256:pinned-long-ago',
          publicKey: 'AAAA',
        },
      });
      const id = (await fx.addServer(target)).id;
      const res = await json(await fx.call(id, 'list', {}));
      expect(res).toMatchObject({ status: 502, body: { error: { code: 'bad_gateway' } } });
      expect(res.body.error.message).toContain(
        `host key for ${target.host}:${target.port} has changed: pinned SHA256:pinned-long-ago`,
      );
      const event = await fx.db.prisma.auditEvent.findFirst({
        where: { action: 'host_key.mismatch', serverId: id },
      });
      expect(event?.details).toMatchObject({ pinnedFingerprint: 'SHA256:pinned-long-ago' });
      // Refused before authentication: sshd saw no login attempt.
      expect(target.logs()).not.toMatch(/Accepted password|Failed password/);
    } finally {
      await target.stop();
    }
  });

  it('answers 429 to a user over the transfer limit, and takes more once one ends', async () => {
    const path = join(dir.path, 'root', 'slow.bin');
    // Far more than a download reads ahead (its window) plus what the sockets hold, so a
    // download that is not read cannot finish.
    const size = 32 * 1024 * 1024;
    await writeFile(path, randomBytes(size));
    // Answered but not read: each download stays open, paused by backpressure.
    const open = await Promise.all([1, 2, 3, 4].map(() => fx.call(serverId, 'download', { path })));
    expect(open.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const refused = await json(await fx.call(serverId, 'download', { path }));
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    await open[0]!.body!.cancel();
    const again = await waitFor(async () => {
      const res = await fx.call(serverId, 'download', { path });
      if (res.status === 200) return res;
      await res.body?.cancel();
      return undefined;
    });
    expect(Buffer.from(await again.arrayBuffer()).length).toBe(size);
    await Promise.all(open.slice(1).map((r) => r.body!.cancel()));
  });

  it('moves the exact bytes up and down for sizes around a request and the read-ahead window', async () => {
    const sizes = join(dir.path, 'sizes');
    await mkdir(sizes);
    await chownToTestUser(sizes);
    const KiB = 1024;
    for (const size of [0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 4096 * KiB + 1, 9000 * KiB]) {
      const path = join(sizes, `${size}.bin`);
      const data = randomBytes(size);
      const up = await fx.call(serverId, 'upload', { path }, { body: data });
      expect(await json(up)).toEqual({ status: 201, body: { path, size } });
      expect((await readFile(path)).equals(data)).toBe(true);
      const down = await fx.call(serverId, 'download', { path });
      expect(down.status).toBe(200);
      expect(Buffer.from(await down.arrayBuffer()).equals(data)).toBe(true);
    }
  });
});
