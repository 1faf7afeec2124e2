// Bulk output: `head -c N /dev/urandom | base64` in the shell, as someone cat-ing a big log.
// Throughput is terminal bytes received per second from Enter to the end marker; CPU is what
// the kernel charged every server-side process (gateway, worker, Redis) over the same interval.
import { randomBytes } from 'node:crypto';
import { waitForQuiet } from '../clients/terminal.js';
import type { Contender } from '../env/deployments.js';
import type { LoopLag } from '../measure/event-loop.js';
import { startServiceMetrics, type FullCollections } from '../measure/service-metrics.js';
import { startCpuMeter, type CpuReading } from '../measure/proc.js';

export interface BulkOptions {
  /** Random bytes fed to base64 (the output is ~4/3 of this, plus line ends). */
  inputBytes: number;
  timeoutMs: number;
}

export interface BulkResult {
  /** Terminal bytes received from Enter to the end marker. */
  bytes: number;
  wallMs: number;
  mbPerSecond: number;
  /** Terminal frames received (WebSocket binary messages, or SSH data packets). */
  frames: number;
  cpu: CpuReading;
  /** Server CPU (all Sallyport processes and Redis) per MB of output. */
  serverCpuMsPerMB: number;
  /** This client's own CPU per MB (ssh2 decryption, or WebSocket parsing). */
  clientCpuMsPerMB: number;
  /**
   * The run's interval on CLOCK_MONOTONIC in microseconds, the clock of V8's CPU profiles, so
   * tools/profile-summary.ts can keep only the samples taken during bulk output.
   */
  windowUs: [number, number];
  /** Redis PUBLISH calls during the run (distributed mode). */
  redisPublishes?: number;
  loopLag: Record<string, LoopLag>;
  /** Each Sallyport process's full garbage collections during the run (at least). */
  fullCollections?: Record<string, FullCollections>;
}

const MB = 1e6;

export async function measureBulk(contender: Contender, options: BulkOptions): Promise<BulkResult> {
  const terminal = await contender.opener.open();
  try {
    // The typed line echoes "$((a+b))"; only the shell's output has the sum, so the echo of the
    // command can never be mistaken for the end.
    const token = `BENCH${randomBytes(4).toString('hex')}_`;
    const [a, b] = [100 + (randomBytes(1)[0] ?? 0), 1000];
    const marker = Buffer.from(`${token}${a + b}`);
    const command = `head -c ${options.inputBytes} /dev/urandom | base64; echo ${token}$((${a}+${b}))\n`;

    const finishMetrics = await startServiceMetrics(contender.metricsUrls);
    const publishesBefore = await contender.redis?.commandCalls('publish');
    const framesBefore = terminal.received.frames;

    const stopCpu = startCpuMeter(contender.serverProcs);
    const windowStart = monotonicUs();
    const startedAt = performance.now();
    const done = new Promise<{ bytes: number; endedAt: number; cpu: CpuReading }>(
      (resolve, reject) => {
        let bytes = 0;
        let carry: Buffer = Buffer.alloc(0);
        const timer = setTimeout(
          () => reject(new Error(`bulk output did not finish within ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
        terminal.onOutput((chunk) => {
          bytes += chunk.length;
          // The marker may straddle two chunks: look in the seam, then in the chunk.
          const seam = Buffer.concat([carry, chunk.subarray(0, marker.length - 1)]);
          if (seam.includes(marker) || chunk.includes(marker)) {
            const endedAt = performance.now();
            const cpu = stopCpu();
            clearTimeout(timer);
            terminal.onOutput(() => undefined);
            resolve({ bytes, endedAt, cpu });
            return;
          }
          carry = chunk.subarray(Math.max(0, chunk.length - (marker.length - 1)));
        });
      },
    );
    terminal.write(command);
    const { bytes, endedAt, cpu } = await done;
    const windowUs: [number, number] = [windowStart, monotonicUs()];
    const wallMs = endedAt - startedAt;
    const { loopLag, fullCollections } = await finishMetrics();
    const publishesAfter = await contender.redis?.commandCalls('publish');
    const frames = terminal.received.frames - framesBefore;
    await waitForQuiet(terminal, 100, 5_000); // the prompt after the marker
    const mb = bytes / MB;
    return {
      bytes,
      wallMs,
      mbPerSecond: mb / (wallMs / 1000),
      frames,
      cpu,
      serverCpuMsPerMB: cpu.totalMs / mb,
      clientCpuMsPerMB: cpu.clientMs / mb,
      windowUs,
      ...(publishesBefore !== undefined && publishesAfter !== undefined
        ? { redisPublishes: publishesAfter - publishesBefore }
        : {}),
      loopLag,
      fullCollections,
    };
  } finally {
    await terminal.close();
  }
}

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
