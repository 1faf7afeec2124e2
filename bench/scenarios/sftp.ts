// SFTP transfer: upload and download of one random file by OpenSSH's `sftp` client (the
// baseline) and through Sallyport's Files API as the browser's Files page uses it (a PUT of the
// raw bytes to /files/upload, a GET of /files/download), with the server processes' peak RSS
// growth. Every transfer is checked (size and SHA-256 against the source) outside the timed
// part, so a broken transfer fails the measurement instead of counting as fast.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../tests/harness/processes.js';
import { ensureTestUser, type SshdHandle } from '../../tests/harness/sshd.js';
import { filesPath, upload } from '../../tests/support/files.js';
import { userDir } from '../../tests/support/sftp-fixture.js';
import { startChild } from '../clients/child.js';
import type { TransferReply, TransferRequest } from '../clients/files-browser.js';
import type { Contender } from '../env/deployments.js';
import { cpuMs, ioCalls, minorFaults, rssBytes, startCounter } from '../measure/proc.js';
import { startServiceMetrics } from '../measure/service-metrics.js';

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
   * CPU milliseconds per MB moved, by process (server processes by name, and `client`: the
   * browser stand-in), for each direction: where the time goes.
   */
  cpuMsPerMB: { upload: Record<string, number>; download: Record<string, number> };
  /**
   * Full garbage collections (a floor, see service-metrics.ts) by process, for each direction:
   * a process that streams bytes can fall into one every few megabytes, which shows in its CPU.
   */
  fullCollections?: { upload: Record<string, number>; download: Record<string, number> };
  /** Read and write system calls per MB moved, by server process: the size of the pieces. */
  ioCallsPerMB?: { upload: Record<string, number>; download: Record<string, number> };
  /** Minor page faults per MB moved, by server process: memory given back and taken again. */
  faultsPerMB?: { upload: Record<string, number>; download: Record<string, number> };
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
 * sftp-worker, by a browser stand-in in a process of its own (clients/files-browser.ts); the
 * peak RSS of every server process is sampled meanwhile.
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
  const browser = await startChild<TransferRequest, TransferReply>('files-browser.ts');
  const viaBrowser = (request: TransferRequest): Promise<Done> =>
    browser.ask(request, 600_000, `the browser stand-in's ${request.op}`);
  try {
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
    const metricsUrls = [
      ...contender.metricsUrls,
      { name: sftpWorker.name, url: sftpWorker.metricsUrl },
    ];
    // Over one transfer: the CPU charged to each server process and the browser's own, per MB;
    // the server processes' system calls and page faults per MB; each Node process's full
    // garbage collections.
    const measure = async (transfer: () => Promise<Done>) => {
      const finishMetrics = await startServiceMetrics(metricsUrls);
      const stopCpu = startCounter(procs, cpuMs);
      const stopCalls = startCounter(procs, ioCalls);
      const stopFaults = startCounter(procs, minorFaults);
      const done = await transfer();
      const [cpu, calls, faults] = [stopCpu(), stopCalls(), stopFaults()];
      const { fullCollections } = await finishMetrics();
      const perMB = (counts: Record<string, number>): Record<string, number> =>
        Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, n / (bytes / MB)]));
      return {
        done,
        cpu: perMB({ ...cpu, client: done.cpuMs }),
        calls: perMB(calls),
        faults: perMB(faults),
        gcs: Object.fromEntries(Object.entries(fullCollections).map(([n, c]) => [n, c.count])),
      };
    };
    try {
      const url = (op: string, params: Record<string, string>): string =>
        new URL(filesPath(target.serverId, op, params), admin.baseUrl).href;
      const up = await measure(() =>
        viaBrowser({
          op: 'upload',
          url: url('upload', { path }),
          cookie: admin.cookie,
          file: fixture.source,
          bytes,
        }),
      );
      const size = (up.done.body as { size?: unknown } | undefined)?.size;
      if (up.done.status !== 201 || size !== bytes) {
        throw new Error(`upload failed: ${up.done.status} ${JSON.stringify(up.done.body)}`);
      }
      const down = await measure(() =>
        viaBrowser({
          op: 'download',
          url: url('download', { path }),
          cookie: admin.cookie,
          file: local,
        }),
      );
      clearInterval(poll);
      if (down.done.status !== 200) throw new Error(`download failed: ${down.done.status}`);
      // The upload is checked by the download: a wrong upload cannot come back with the hash.
      await expectSame(local, fixture, bytes, 'Sallyport download');
      return {
        uploadMBps: bytes / MB / up.done.seconds,
        downloadMBps: bytes / MB / down.done.seconds,
        rssGrowth: Object.fromEntries(procs.map((p, i) => [p.name, peaks[i]! - baseline[i]!])),
        sftpWorker: sftpWorker.name,
        cpuMsPerMB: { upload: up.cpu, download: down.cpu },
        fullCollections: { upload: up.gcs, download: down.gcs },
        ioCallsPerMB: { upload: up.calls, download: down.calls },
        faultsPerMB: { upload: up.faults, download: down.faults },
      };
    } finally {
      clearInterval(poll);
    }
  } finally {
    await browser.stop();
    // The target is this machine: no need to go through the API to tidy up.
    await rm(path, { force: true });
    await rm(`${path}.warm`, { force: true });
    await rm(local, { force: true });
  }
}

type Done = Exclude<TransferReply, { error: string }>;

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
