// Files in embedded mode, through the gateway as a browser or script uses them: a folder tree
// up and back as a ZIP, the server switches, path traversal, limits, and a target that dies
// mid-upload.
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from './harness/processes.js';
import { ensureTestUser, startSshd } from './harness/sshd.js';
import { downloadBytes, fileOp, filesPath, upload } from './support/files.js';
import { startEmbedded, type Embedded } from './support/sallyport.js';
import { userDir } from './support/sftp-fixture.js';
import { sshdServer } from './support/target.js';

const sshd = inject('sshd');
let sp: Embedded;
let serverId: string;
let dir: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  sp = await startEmbedded({ SALLYPORT_SFTP_MAX_UPLOAD_MB: '64', SALLYPORT_SFTP_MAX_ZIP_MB: '4' });
  serverId = (await sp.admin.createServer(sshdServer(sshd))).id;
  dir = await userDir((await ensureTestUser()).home, 'sftp-e2e');
});
afterAll(async () => {
  await sp?.stop();
  await dir?.remove();
});

/** Every entry of a ZIP: name → content (folders as null). */
function unzip(buffer: Buffer): Promise<Map<string, string | null>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const found = new Map<string, string | null>();
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          found.set(entry.fileName, null);
          return zip.readEntry();
        }
        zip.openReadStream(entry, (err2, stream) => {
          if (err2) return reject(err2);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            found.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(found));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('Files in embedded mode', () => {
  it('uploads a folder tree with awkward names and downloads it as a ZIP that matches', async () => {
    const root = join(dir.path, 'tree');
    const files: Record<string, string> = {
      'plain.txt': 'plain\n',
      'with space.txt': 'spaces\n',
      'ünïcødé ✓ 日本.txt': 'unicode\n',
      '<b>bold<b> & "quotes" \'too\'.html': '<script>alert(1)</script>\n',
      'sub dir/deeper/nested.txt': 'nested\n',
      'sub dir/empty.txt': '',
    };
    for (const folder of [
      root,
      `${root}/sub dir`,
      `${root}/sub dir/deeper`,
      `${root}/empty folder`,
    ]) {
      expect((await fileOp(sp.admin, serverId, 'mkdir', { path: folder })).status).toBe(201);
    }
    for (const [name, content] of Object.entries(files)) {
      const res = await upload(sp.admin, serverId, { path: `${root}/${name}` }, content);
      expect(res.status, name).toBe(201);
    }
    const listed = await fileOp(sp.admin, serverId, 'list', { path: root });
    expect((listed.body.entries as any[]).map((e) => e.name)).toEqual([
      'empty folder',
      'sub dir',
      '<b>bold<b> & "quotes" \'too\'.html',
      'plain.txt',
      'ünïcødé ✓ 日本.txt',
      'with space.txt',
    ]);

    const zip = await downloadBytes(sp.admin, serverId, 'zip', { path: root });
    expect(zip.status).toBe(200);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    expect(zip.headers.get('content-disposition')).toBe('attachment; filename="tree.zip"');
    const entries = await unzip(zip.bytes);
    expect(Object.fromEntries(entries)).toEqual({
      'empty folder/': null,
      'sub dir/': null,
      'sub dir/deeper/': null,
      ...files,
    });

    // An HTML file is a download, never a page of ours.
    const html = await downloadBytes(sp.admin, serverId, 'download', {
      path: `${root}/<b>bold<b> & "quotes" 'too'.html`,
      inline: true,
    });
    expect(html.headers.get('content-type')).toBe('application/octet-stream');
    expect(html.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers 413 for an upload over the limit and a folder over the ZIP limit, and keeps nothing', async () => {
    const big = join(dir.path, 'too-big.bin');
    // The gateway answers 413 and closes the connection; a client still sending the body may
    // see the reset before it reads the answer. Either way the upload is refused.
    const refusedOrReset = (attempt: Promise<{ status: number; body: any }>) =>
      attempt.catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE' || err.code === 'ECONNRESET') {
          return { status: 413, body: { error: { code: 'payload_too_large' } } };
        }
        throw err;
      });
    const declared = await refusedOrReset(
      upload(sp.admin, serverId, { path: big }, Buffer.alloc(65 * 1024 * 1024)),
    );
    expect(declared).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    // Without a length up front, the stream is cut once it passes the limit.
    const streamed = await refusedOrReset(
      upload(
        sp.admin,
        serverId,
        { path: big },
        Readable.from(
          (function* () {
            for (let i = 0; i < 80; i++) yield Buffer.alloc(1024 * 1024, i);
          })(),
        ),
      ),
    );
    expect(streamed).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    await expect(access(big)).rejects.toThrow();

    const folder = join(dir.path, 'zip-limit');
    await fileOp(sp.admin, serverId, 'mkdir', { path: folder });
    await writeFile(join(folder, 'a.bin'), Buffer.alloc(5 * 1024 * 1024));
    const zip = await sp.admin.request('GET', filesPath(serverId, 'zip', { path: folder }));
    expect(zip).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it('refuses path traversal in every form with a 403', async () => {
    const root = join(dir.path, 'jail');
    await fileOp(sp.admin, serverId, 'mkdir', { path: root });
    await fileOp(sp.admin, serverId, 'mkdir', { path: `${root}2` });
    const jailed = (await sp.admin.createServer(sshdServer(sshd, { sftpRoots: [root] }))).id;
    const raw = (query: string) =>
      sp.admin.request('GET', `/api/servers/${jailed}/files/list?path=${query}`);
    for (const query of [
      encodeURIComponent(`${root}/../`),
      `${encodeURIComponent(root)}%2f%2e%2e%2f`,
      `${encodeURIComponent(root)}/%2e%2e%2f%2e%2e%2fetc`,
      `${encodeURIComponent(root)}%00`,
      '%2Fetc',
      encodeURIComponent(`${root}2`),
    ]) {
      const res = await raw(query);
      expect(res, query).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    }
    expect((await raw(encodeURIComponent(root))).status).toBe(200);
  });

  it('answers 403 to every change on a read-only server, and to everything with SFTP off', async () => {
    const readOnly = (await sp.admin.createServer(sshdServer(sshd, { sftpReadOnly: true }))).id;
    const path = join(dir.path, 'ro.txt');
    expect((await fileOp(sp.admin, readOnly, 'list', { path: dir.path })).status).toBe(200);
    const changes: Array<[string, Record<string, string | boolean>]> = [
      ['mkdir', { path }],
      ['rename', { from: path, to: `${path}.x` }],
      ['delete', { path, recursive: true }],
      ['chmod', { path, mode: '644' }],
    ];
    for (const [op, params] of changes) {
      expect((await fileOp(sp.admin, readOnly, op, params)).status, op).toBe(403);
    }
    expect((await upload(sp.admin, readOnly, { path }, 'x')).status).toBe(403);

    const off = (await sp.admin.createServer(sshdServer(sshd, { sftpEnabled: false }))).id;
    for (const op of ['list', 'stat', 'text', 'download', 'zip']) {
      expect((await fileOp(sp.admin, off, op, { path: dir.path })).status, op).toBe(403);
    }
    for (const [op, params] of changes)
      expect((await fileOp(sp.admin, off, op, params)).status).toBe(403);
    expect((await upload(sp.admin, off, { path }, 'x')).status).toBe(403);
  });

  it('reports an error within 30 s when the target dies mid-upload, keeps no file, and recovers', async () => {
    const target = await startSshd();
    try {
      const id = (await sp.admin.createServer(sshdServer(target))).id;
      const path = join(dir.path, 'interrupted.bin');
      expect((await fileOp(sp.admin, id, 'list', { path: dir.path })).status).toBe(200);

      // No length up front and less than the upload limit in all: only the dying target stops it.
      let sent = 0;
      let killedAt = 0;
      const body = Readable.from(
        (async function* () {
          for (let i = 0; i < 60; i++) {
            sent += 1024 * 1024;
            if (sent === 4 * 1024 * 1024) {
              killedAt = Date.now();
              await target.kill();
            }
            yield Buffer.alloc(1024 * 1024, i);
          }
        })(),
      );
      const answer = await upload(sp.admin, id, { path }, body).catch((err: unknown) => ({
        status: 0,
        body: { error: { message: String(err) } },
      }));
      expect(killedAt).toBeGreaterThan(0);
      expect(Date.now() - killedAt).toBeLessThan(30_000);
      // The gateway answers at once, while this client is still sending; Node then closes the
      // connection, and a client mid-write may see that reset before it reads the answer.
      if (answer.status === 0) expect(answer.body.error.message).toMatch(/EPIPE|ECONNRESET/);
      else {
        expect(answer).toMatchObject({ status: 502, body: { error: { code: 'bad_gateway' } } });
        expect(answer.body.error.message).toMatch(/was lost/);
      }
      await expect(access(path)).rejects.toThrow();

      const again = await startSshd({ port: target.port, hostKeyDir: target.hostKeyDir });
      try {
        const listed = await waitFor(
          async () => {
            const res = await fileOp(sp.admin, id, 'list', { path: dir.path });
            return res.status === 200 ? res : undefined;
          },
          { timeoutMs: 20_000, description: 'a listing after sshd is back' },
        );
        expect((listed.body.entries as any[]).map((e) => e.name)).not.toContain('interrupted.bin');
      } finally {
        await again.stop();
      }
    } finally {
      await target.stop();
    }
  });
});
