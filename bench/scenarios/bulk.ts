// Bulk output: `head -c N /dev/urandom | base64` in the shell, as someone cat-ing a big log.
// Throughput is terminal bytes received per second from Enter to the end marker; CPU is what
// the kernel charged every server-side process (gateway, worker, Redis) over that interval (and
// the message to and from the terminal's process). The terminal is in a process of its own
// (clients/bulk-terminal.ts), as a browser is; each run opens a new session.
import { randomBytes } from 'node:crypto';
import type { BulkReply, BulkRequest } from '../clients/bulk-terminal.js';
import { startChild, type ChildClient } from '../clients/child.js';
import type { Contender } from '../env/deployments.js';
import type { LoopLag } from '../measure/event-loop.js';
import type { PauseReason } from '../../services/session-worker/src/metrics.js';
import {
  startServiceMetrics,
  type FullCollections,
  type ShellPausedMs,
} from '../measure/service-metrics.js';
import { minorFaults, startCounter, startCpuMeter, type CpuReading } from '../measure/proc.js';

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
  /** The terminal's process's CPU per MB (ssh2 decryption, or WebSocket parsing). */
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
  /**
   * How long the worker kept the shell paused during the run, by what it waited for (the
   * browser's acknowledgements, the bus, the headless screen): flow control, not CPU.
   */
  shellPausedMs?: ShellPausedMs;
  /**
   * Minor page faults per MB of output, by server process: pages the kernel had to map again,
   * as when the allocator hands freed buffers back and takes them again.
   */
  faultsPerMB?: Record<string, number>;
}

const MB = 1e6;

/** The bulk scenario's browser: a process of its own that opens a session for each run. */
export interface BulkBrowser {
  measure(options: BulkOptions): Promise<BulkResult>;
  stop(): Promise<void>;
}

export async function startBulkBrowser(contender: Contender): Promise<BulkBrowser> {
  const child = await startChild<BulkRequest, BulkReply>('bulk-terminal.ts');
  return {
    measure: async (options) => {
      await child.ask(
        { op: 'open', ssh: contender.ssh, sallyport: contender.sallyport?.target },
        60_000,
        'opening a terminal',
      );
      try {
        return await measureBulk(contender, child, options);
      } finally {
        // Also after a failure: the session ends, and whatever it was printing with it.
        await child
          .ask({ op: 'close' }, 30_000, 'closing the terminal')
          .catch((err: unknown) => console.warn(`  warning: ${String(err)}`));
      }
    },
    stop: () => child.stop(),
  };
}

async function measureBulk(
  contender: Contender,
  child: ChildClient<BulkRequest, BulkReply>,
  options: BulkOptions,
): Promise<BulkResult> {
  // The typed line echoes "$((a+b))"; only the shell's output has the sum, so the echo of the
  // command can never be mistaken for the end.
  const token = `BENCH${randomBytes(4).toString('hex')}_`;
  const [a, b] = [100 + (randomBytes(1)[0] ?? 0), 1000];
  const marker = `${token}${a + b}`;
  const command = `head -c ${options.inputBytes} /dev/urandom | base64; echo ${token}$((${a}+${b}))\n`;

  await child.ask({ op: 'settle' }, 30_000, 'waiting for the prompt');
  const finishMetrics = await startServiceMetrics(contender.metricsUrls);
  const publishesBefore = await contender.redis?.commandCalls('publish');
  const stopCpu = startCpuMeter(contender.serverProcs);
  const stopFaults = startCounter(contender.serverProcs, minorFaults);
  const windowStart = monotonicUs();
  const printed = await child.ask(
    { op: 'print', command, marker, timeoutMs: options.timeoutMs },
    options.timeoutMs + 30_000,
    'bulk output',
  );
  if (!('bytes' in printed)) throw new Error('bulk output: the terminal gave no figures');
  // The client's CPU is the terminal's process's, not the bench's.
  const cpu: CpuReading = { ...stopCpu(), clientMs: printed.clientCpuMs };
  const mb = printed.bytes / MB;
  const faultsPerMB = Object.fromEntries(
    Object.entries(stopFaults()).map(([name, faults]) => [name, faults / mb]),
  );
  const windowUs: [number, number] = [windowStart, monotonicUs()];
  const { loopLag, fullCollections, shellPausedMs } = await finishMetrics();
  const publishesAfter = await contender.redis?.commandCalls('publish');
  return {
    bytes: printed.bytes,
    wallMs: printed.wallMs,
    mbPerSecond: mb / (printed.wallMs / 1000),
    frames: printed.frames,
    cpu,
    serverCpuMsPerMB: cpu.totalMs / mb,
    clientCpuMsPerMB: cpu.clientMs / mb,
    windowUs,
    ...(publishesBefore !== undefined && publishesAfter !== undefined
      ? { redisPublishes: publishesAfter - publishesBefore }
      : {}),
    loopLag,
    fullCollections,
    ...(contender.sallyport ? { shellPausedMs: sumByReason(Object.values(shellPausedMs)) } : {}),
    faultsPerMB,
  };
}

function sumByReason(perProcess: readonly ShellPausedMs[]): ShellPausedMs {
  const total: ShellPausedMs = {};
  for (const paused of perProcess) {
    for (const [reason, ms] of Object.entries(paused) as [PauseReason, number][])
      total[reason] = (total[reason] ?? 0) + ms;
  }
  return total;
}

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
