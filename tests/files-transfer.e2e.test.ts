// Files in distributed mode: the gateway and the sftp-worker as separate processes, a large
// file up and back down through both, with their memory watched from /proc. The size is
// SALLYPORT_TEST_BIG_FILE_MB (default 256, which keeps CI quick); the acceptance run is 1024.
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signRequest } from '@sallyport/sftp-protocol';
import { ensureTestUser } from './harness/sshd.js';
import { downloadHash, fileOp, generatedData, upload } from './support/files.js';
import { metricValue } from './support/metrics.js';
import { startDistributed, type Distributed } from './support/sallyport.js';
import { userDir } from './support/sftp-fixture.js';
import { sshdServer } from './support/target.js';

const sshd = inject('sshd');
const BIG_MB = Number(process.env.SALLYPORT_TEST_BIG_FILE_MB ?? 256);
const RSS_GROWTH_LIMIT = 100 * 1024 * 1024;

let cluster: Distributed;
let serverId: string;
let dir: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  cluster = await startDistributed({ gateways: 1, workers: 0, sftpWorkers: 1 });
  serverId = (await cluster.admin.createServer(sshdServer(sshd))).id;
  dir = await userDir((await ensureTestUser()).home, 'sftp-transfer');
});
afterAll(async () => {
  await cluster?.stop();
  await dir?.remove();
});

const sftpWorkerUrl = () => cluster.sftpWorkers[0]!.url!;

/** Resident memory of a process, from /proc/<pid>/status. */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

/** Samples the peak RSS of some processes until stopped. */
function watchRss(pids: Record<string, number>) {
  const peaks: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const [name, pid] of Object.entries(pids))
        peaks[name] = Math.max(peaks[name] ?? 0, await rss(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peaks;
  };
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

describe('Files in distributed mode', () => {
  it('refuses requests to the sftp-worker that the gateway did not sign', async () => {
    const path = `/v1/servers/${serverId}/files/list?path=%2Fetc`;
    const unsigned = await fetch(sftpWorkerUrl() + path);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({
      error: { message: 'the request is not signed' },
    });
    const identity = { userId: 'x', username: 'mallory', ip: '127.0.0.1', reqId: 'r' };
    const wrongKey = signRequest('not-the-cluster-secret-but-long-enough', {
      method: 'GET',
      path,
      identity,
    });
    expect((await fetch(sftpWorkerUrl() + path, { headers: wrongKey })).status).toBe(401);
    const signedOtherPath = signRequest(cluster.internalSecret, {
      method: 'GET',
      path: `${path}x`,
      identity,
    });
    expect((await fetch(sftpWorkerUrl() + path, { headers: signedOtherPath })).status).toBe(401);
    // The ops endpoints are the only thing served unsigned.
    expect((await fetch(`${sftpWorkerUrl()}/healthz`)).status).toBe(200);
    expect((await fetch(`${sftpWorkerUrl()}/readyz`)).status).toBe(200);
  });

  it(
    `streams a ${BIG_MB} MB file up and back down with bounded memory`,
    { timeout: Math.max(120_000, BIG_MB * 600) },
    async () => {
      // Warm both processes up (code paths, pooled connection) before the baseline.
      const warm = await upload(cluster.admin, serverId, { path: join(dir.path, 'warm') }, 'warm');
      expect(warm.status).toBe(201);
      const pids = {
        gateway: cluster.gateways[0]!.proc.pid!,
        'sftp-worker': cluster.sftpWorkers[0]!.proc.pid!,
      };
      const baseline = Object.fromEntries(
        await Promise.all(
          Object.entries(pids).map(async ([n, pid]) => [n, await rss(pid)] as const),
        ),
      );
      const stop = watchRss(pids);

      const path = join(dir.path, 'big.bin');
      const data = generatedData(BIG_MB);
      const started = Date.now();
      const up = await upload(cluster.admin, serverId, { path }, data.stream, data.length);
      const uploadSeconds = (Date.now() - started) / 1000;
      expect(up).toEqual({ status: 201, body: { path, size: data.length } });
      expect((await stat(path)).size).toBe(data.length);

      const downStarted = Date.now();
      const down = await downloadHash(cluster.admin, serverId, 'download', { path });
      const downloadSeconds = (Date.now() - downStarted) / 1000;
      const peaks = await stop();
      expect(down).toMatchObject({ status: 200, bytes: data.length, sha256: await data.sha256 });

      const growth = Object.fromEntries(
        Object.entries(peaks).map(([n, peak]) => [n, peak - baseline[n]!]),
      );
      console.log(
        `${BIG_MB} MB: upload ${uploadSeconds.toFixed(1)} s, download ${downloadSeconds.toFixed(1)} s; ` +
          Object.keys(pids)
            .map(
              (n) =>
                `${n} RSS ${mb(baseline[n]!)} MB -> peak ${mb(peaks[n]!)} MB (+${mb(growth[n]!)} MB)`,
            )
            .join('; '),
      );
      for (const [name, bytes] of Object.entries(growth))
        expect(bytes, name).toBeLessThan(RSS_GROWTH_LIMIT);
      await rm(path);
    },
  );

  it('counts transfers, bytes and pooled connections in the sftp-worker metrics', async () => {
    const listed = await fileOp(cluster.admin, serverId, 'list', { path: dir.path });
    expect(listed.status).toBe(200);
    const metrics = await (await fetch(`${sftpWorkerUrl()}/metrics`)).text();
    expect(metricValue(metrics, 'sallyport_sftp_pool_connections')).toBe(1);
    expect(
      metricValue(metrics, 'sallyport_sftp_bytes_total', 'direction="upload"'),
    ).toBeGreaterThan(0);
    expect(
      metricValue(metrics, 'sallyport_sftp_transfers_total', 'direction="download",outcome="ok"'),
    ).toBeGreaterThan(0);
  });
});
