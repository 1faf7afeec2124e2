// SFTP transfer: upload and download of one random file by OpenSSH's `sftp` client (the
// baseline) and through Sallyport's Files API as the browser's Files page uses it (a PUT of the
// raw bytes to /files/upload, a GET of /files/download), with the server processes' peak RSS
// growth. Every transfer is checked (size and SHA-256 against the source) outside the timed
// part, so a broken transfer fails the measurement instead of counting as fast.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, writeSync } from 'node:fs';
import { chmod, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../tests/harness/processes.js';
import { ensureTestUser, type SshdHandle } from '../../tests/harness/sshd.js';
import type { ApiClient } from '../../tests/support/api.js';
import { filesPath, upload } from '../../tests/support/files.js';
import { userDir } from '../../tests/support/sftp-fixture.js';
import type { Contender } from '../env/deployments.js';
import { cpuMs, rssBytes } from '../measure/proc.js';

export interface Transfer {
  uploadMBps: number;
  downloadMBps: number;
}

export interface SftpResult extends Transfer {
  /** Peak RSS growth over the transfers of each server process, bytes. */
  rssGrowth: Record<string, number>;
  /** The name of the sftp-worker among them (its growth has a target). */
  sftpWorker: string;
  /**
   * CPU milliseconds per MB moved, by process (server processes by name, and `client`: this
   * bench process, standing in for the browser), for each direction: where the time goes.
   */
  cpuMsPerMB: { upload: Record<string, number>; download: Record<string, number> };
}

export interface SftpFixture {
  /** A local random file of the size measured, and its SHA-256. */
  source: string;
  sha256: string;
  /** Where downloads go locally. */
  dir: string;
  /** A directory of the test user's on the target, where uploads go. */
  remoteDir: string;
  keyFile: string;
  cleanup(): Promise<void>;
}

const MB = 1e6;

/** The local random file, the sshd's client key, and a directory on the target. */
export async function sftpFixture(sshd: SshdHandle, bytes: number): Promise<SftpFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sallyport-bench-sftp-'));
  let remote: Awaited<ReturnType<typeof userDir>> | undefined;
  try {
    remote = await userDir((await ensureTestUser()).home, 'bench-sftp');
    const source = join(dir, 'source.bin');
    await run('sh', ['-c', `head -c ${bytes} /dev/urandom > "$1"`, 'sh', source]);
    const keyFile = join(dir, 'id');
    await writeFile(keyFile, sshd.privateKey, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    return {
      source,
      sha256: await fileSha256(source),
      dir,
      remoteDir: remote.path,
      keyFile,
      cleanup: async () => {
        await remote?.remove();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await remote?.remove();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** OpenSSH's sftp client: put, then get the same file back; seconds include the login. */
export async function measureOpenSshSftp(
  sshd: SshdHandle,
  fixture: SftpFixture,
  bytes: number,
): Promise<Transfer> {
  const remote = join(fixture.remoteDir, `openssh-${randomBytes(4).toString('hex')}.bin`);
  const local = join(fixture.dir, 'download.bin');
  const sftp = async (batch: string): Promise<number> => {
    const batchFile = join(fixture.dir, 'batch');
    await writeFile(batchFile, batch);
    const t0 = performance.now();
    // -b: any failed command fails the run.
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
  };
  try {
    const up = await sftp(`put ${fixture.source} ${remote}\n`);
    await expectSame(remote, fixture, bytes, 'OpenSSH sftp upload');
    const down = await sftp(`get ${remote} ${local}\n`);
    await expectSame(local, fixture, bytes, 'OpenSSH sftp download');
    return { uploadMBps: bytes / MB / up, downloadMBps: bytes / MB / down };
  } finally {
    await rm(remote, { force: true });
    await rm(local, { force: true });
  }
}

/**
 * The same file up and back down through the gateway's Files API, which forwards to the
 * sftp-worker; the peak RSS of every server process is sampled meanwhile.
 */
export async function measureSallyportSftp(
  contender: Contender,
  fixture: SftpFixture,
  bytes: number,
): Promise<SftpResult> {
  const sftpWorker = contender.sallyport?.sftpWorker;
  if (!sftpWorker) throw new Error('the deployment has no sftp-worker');
  const { admin, target } = contender.sallyport!;
  const path = join(fixture.remoteDir, `sallyport-${randomBytes(4).toString('hex')}.bin`);
  const local = join(fixture.dir, 'download.bin');
  // Warm up first (code paths, the pooled SFTP connection), so the baseline is the idle
  // process and the growth is what the transfers hold.
  const warm = await upload(admin, target.serverId, { path: `${path}.warm` }, 'warm');
  if (warm.status !== 201) throw new Error(`warm-up upload failed: ${JSON.stringify(warm)}`);
  const procs = contender.serverProcs;
  const baseline = procs.map((p) => rssBytes(p.pid));
  const peaks = [...baseline];
  const poll = setInterval(() => {
    procs.forEach((p, i) => (peaks[i] = Math.max(peaks[i]!, rssBytes(p.pid))));
  }, 100);
  // CPU charged to each process over one transfer, per MB.
  const cpuNow = (): number[] => [
    ...procs.map((p) => cpuMs(p.pid)),
    (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  ];
  const cpuPerMB = (before: number[]): Record<string, number> => {
    const after = cpuNow();
    const names = [...procs.map((p) => p.name), 'client'];
    return Object.fromEntries(names.map((n, i) => [n, (after[i]! - before[i]!) / (bytes / MB)]));
  };
  try {
    let cpu = cpuNow();
    let t0 = performance.now();
    const up = await upload(
      admin,
      target.serverId,
      { path },
      createReadStream(fixture.source),
      bytes,
    );
    const upSeconds = (performance.now() - t0) / 1000;
    const uploadCpu = cpuPerMB(cpu);
    const size = (up.body as { size?: unknown } | undefined)?.size;
    if (up.status !== 201 || size !== bytes) {
      throw new Error(`upload failed: ${up.status} ${JSON.stringify(up.body)}`);
    }
    cpu = cpuNow();
    t0 = performance.now();
    const status = await downloadToFile(
      admin,
      filesPath(target.serverId, 'download', { path }),
      local,
    );
    const downSeconds = (performance.now() - t0) / 1000;
    const downloadCpu = cpuPerMB(cpu);
    clearInterval(poll);
    if (status !== 200) throw new Error(`download failed: ${status}`);
    // The upload is checked by the download: a wrong upload cannot come back with the hash.
    await expectSame(local, fixture, bytes, 'Sallyport download');
    return {
      uploadMBps: bytes / MB / upSeconds,
      downloadMBps: bytes / MB / downSeconds,
      rssGrowth: Object.fromEntries(procs.map((p, i) => [p.name, peaks[i]! - baseline[i]!])),
      sftpWorker: sftpWorker.name,
      cpuMsPerMB: { upload: uploadCpu, download: downloadCpu },
    };
  } finally {
    clearInterval(poll);
    // The target is this machine: no need to go through the API to tidy up.
    await rm(path, { force: true });
    await rm(`${path}.warm`, { force: true });
    await rm(local, { force: true });
  }
}

async function expectSame(
  file: string,
  fixture: SftpFixture,
  bytes: number,
  what: string,
): Promise<void> {
  const size = (await stat(file)).size;
  if (size !== bytes) throw new Error(`${what}: ${size} of ${bytes} bytes`);
  if ((await fileSha256(file)) !== fixture.sha256) throw new Error(`${what}: SHA-256 differs`);
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The browser's download (a GET of the file's download URL with the login cookie), saved to
 * `file`; answers the HTTP status. Each chunk is written as it arrives with a plain write(2),
 * as OpenSSH's `get` does: a file stream's hop through libuv's thread pool cost this process
 * ~2 ms per MB more, CPU the server processes on the same two cores would then not have.
 */
async function downloadToFile(client: ApiClient, path: string, file: string): Promise<number> {
  const fd = await open(file, 'w');
  try {
    return await new Promise<number>((resolve, reject) => {
      const req = get(
        new URL(path, client.baseUrl),
        { headers: { cookie: client.cookie } },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            for (let at = 0; at < chunk.length;) at += writeSync(fd.fd, chunk, at);
          });
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
  } finally {
    await fd.close();
  }
}
