// SFTP transfer: upload and download of one file, by OpenSSH's `sftp` client (the baseline)
// and through Sallyport's file API, with the server processes' peak RSS growth. The Sallyport
// half needs the SFTP feature (issue 5) and says "not measured" until the gateway has it.
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { run } from '../../tests/harness/processes.js';
import type { SshdHandle } from '../../tests/harness/sshd.js';
import type { Contender } from '../env/deployments.js';
import { sftpAvailable, sftpContentUrl } from '../env/features.js';
import { rssBytes } from '../measure/proc.js';

export interface SftpOptions {
  bytes: number;
}

export interface Transfer {
  uploadMBps: number;
  downloadMBps: number;
}

export type SftpResult =
  ({ measured: true; peakRssGrowth: number } & Transfer) | { measured: false; reason: string };

export interface SftpFixture {
  dir: string;
  source: string;
  keyFile: string;
  cleanup(): Promise<void>;
}

const MB = 1e6;

/** A local random file of `bytes` and the sshd's client key, in a temp dir. */
export async function sftpFixture(sshd: SshdHandle, bytes: number): Promise<SftpFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sallyport-bench-sftp-'));
  const source = join(dir, 'source.bin');
  await run('sh', ['-c', `head -c ${bytes} /dev/urandom > "$1"`, 'sh', source]);
  const keyFile = join(dir, 'id');
  await writeFile(keyFile, sshd.privateKey, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  return { dir, source, keyFile, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** OpenSSH's sftp client: put, then get the same file back; seconds include the login. */
export async function measureOpenSshSftp(
  sshd: SshdHandle,
  fixture: SftpFixture,
  bytes: number,
): Promise<Transfer> {
  const remote = `bench-${randomBytes(4).toString('hex')}.bin`;
  const sftp = (batch: string): Promise<number> =>
    (async () => {
      const batchFile = join(fixture.dir, 'batch');
      await writeFile(batchFile, batch);
      const t0 = performance.now();
      await run('sftp', [
        '-q',
        '-b',
        batchFile,
        '-P',
        String(sshd.port),
        '-i',
        fixture.keyFile,
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'LogLevel=ERROR',
        `${sshd.user}@${sshd.host}`,
      ]);
      return (performance.now() - t0) / 1000;
    })();
  try {
    const up = await sftp(`put ${fixture.source} ${remote}\n`);
    const down = await sftp(`get ${remote} ${join(fixture.dir, 'download.bin')}\n`);
    return { uploadMBps: bytes / MB / up, downloadMBps: bytes / MB / down };
  } finally {
    await sftp(`-rm ${remote}\n`).catch(() => undefined);
    await rm(join(fixture.dir, 'download.bin'), { force: true });
  }
}

/** The same through Sallyport's file API (features.ts has the assumed routes). */
export async function measureSallyportSftp(
  contender: Contender,
  fixture: SftpFixture,
  bytes: number,
): Promise<SftpResult> {
  const sallyport = contender.sallyport;
  if (!sallyport) return { measured: false, reason: 'not a Sallyport contender' };
  const { admin, target } = sallyport;
  if (!(await sftpAvailable(admin, target.serverId))) {
    return { measured: false, reason: 'SFTP not available' };
  }
  const url = sftpContentUrl(
    target.gatewayUrls[0]!,
    target.serverId,
    `bench-${randomBytes(4).toString('hex')}.bin`,
  );
  const headers = { cookie: admin.cookie, origin: admin.origin };
  const baseline = contender.serverProcs.map((p) => rssBytes(p.pid));
  let peak = 0;
  const poll = setInterval(() => {
    contender.serverProcs.forEach((p, i) => {
      peak = Math.max(peak, rssBytes(p.pid) - baseline[i]!);
    });
  }, 100);
  try {
    let t0 = performance.now();
    // `duplex` (required for a streamed body) is missing from Node 20's RequestInit types.
    const upload: RequestInit & { duplex: 'half' } = {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(createReadStream(fixture.source)) as ReadableStream,
      duplex: 'half',
    };
    const put = await fetch(url, upload);
    if (!put.ok) throw new Error(`upload failed: ${put.status} ${await put.text()}`);
    const up = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const get = await fetch(url, { headers });
    if (!get.ok || !get.body) throw new Error(`download failed: ${get.status}`);
    let received = 0;
    const reader = (get.body as ReadableStream<Uint8Array>).getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      received += chunk.value.byteLength;
    }
    const down = (performance.now() - t0) / 1000;
    if (received !== bytes) throw new Error(`downloaded ${received} bytes of ${bytes}`);
    return {
      measured: true,
      uploadMBps: bytes / MB / up,
      downloadMBps: bytes / MB / down,
      peakRssGrowth: peak,
    };
  } finally {
    clearInterval(poll);
    await fetch(url, { method: 'DELETE', headers }).catch(() => undefined);
  }
}
