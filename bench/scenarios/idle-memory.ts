// Memory per idle session: open N shells that then sit at their prompt, reading the memory of
// the process holding them (the session worker, the embedded process, or for the baseline a
// plain ssh2 client process) at a few checkpoints on the way. The figure is the least-squares
// slope of RSS over the session count (from the first checkpoint on, see grow()): a garbage
// collection that happens to fall between two readings moves one point, not the whole answer. Every round starts from fresh processes:
// memory freed by an earlier round would otherwise be reused and hide the growth.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SshdHandle } from '../../tests/harness/sshd.js';
import { fillHistory, type BenchTerminal } from '../clients/terminal.js';
import type { HolderReply, HolderRequest } from '../clients/ssh-holder.js';
import type { SallyportDeployment } from '../env/deployments.js';
import { pssBytes, rssBytes, type ProcRef } from '../measure/proc.js';
import { quantile, slope } from '../measure/stats.js';
import { runPool, sleep, withDeadline } from '../util.js';

export interface IdleOptions {
  sessions: number;
  /** Sessions being opened at once. */
  concurrency: number;
  /** Memory readings on the way to N (besides the one before the first session). */
  checkpoints: number;
  /** Wait after a checkpoint's last prompt before reading memory. */
  settleMs: number;
  /** Lines each session prints before it goes idle, so it has history (a full scrollback). */
  fillLines: number;
}

export interface MemoryPoint {
  sessions: number;
  rss: number;
  pss: number;
  /** RSS of the other server processes (gateway, Redis), by name. */
  others: Record<string, number>;
}

export interface IdleResult {
  sessions: number;
  /** Seconds to open all of them (checkpoint pauses excluded). */
  openSeconds: number;
  points: MemoryPoint[];
  /** Slope of the holder's RSS over the session count, bytes per session. */
  rssPerSession: number;
  pssPerSession: number;
  /** The same slope for the other server processes. */
  othersPerSession: Record<string, number>;
}

const WARMUP_SESSIONS = 3;

/** Opens `count` more sessions in the holder. */
type Grow = (count: number) => Promise<void>;

/** Median of a few readings a moment apart, so one allocation spike does not decide. */
async function readPoint(
  sessions: number,
  holder: number,
  others: readonly ProcRef[],
): Promise<MemoryPoint> {
  const rss: number[] = [];
  const pss: number[] = [];
  const other: Record<string, number[]> = {};
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(150);
    rss.push(rssBytes(holder));
    pss.push(pssBytes(holder));
    for (const p of others) (other[p.name] ??= []).push(rssBytes(p.pid));
  }
  const othersMedian: Record<string, number> = {};
  for (const [name, values] of Object.entries(other)) othersMedian[name] = quantile(values, 0.5);
  return { sessions, rss: quantile(rss, 0.5), pss: quantile(pss, 0.5), others: othersMedian };
}

/** Grows to N in `checkpoints` steps, reading memory before and after each. */
async function grow(
  options: IdleOptions,
  holder: number,
  others: readonly ProcRef[],
  open: Grow,
): Promise<IdleResult> {
  const points = [await readPoint(0, holder, others)];
  let openMs = 0;
  let opened = 0;
  for (let step = 1; step <= options.checkpoints; step++) {
    const target = Math.round((options.sessions * step) / options.checkpoints);
    const t0 = performance.now();
    await open(target - opened);
    openMs += performance.now() - t0;
    opened = target;
    await sleep(options.settleMs);
    points.push(await readPoint(opened, holder, others));
  }
  // The marginal cost once the process is warm: the first checkpoint's jump also holds one-off
  // growth (connection pools, code paths run for the first time, a heap resized), so with
  // enough checkpoints the slope starts there; otherwise it has to include the start.
  const fit = points.length >= 4 ? points.slice(1) : points;
  const othersPerSession: Record<string, number> = {};
  for (const p of others) othersPerSession[p.name] = slope(fit, (pt) => pt.others[p.name] ?? 0);
  return {
    sessions: opened,
    openSeconds: openMs / 1000,
    points,
    rssPerSession: slope(fit, (p) => p.rss),
    pssPerSession: slope(fit, (p) => p.pss),
    othersPerSession,
  };
}

function stepDeadlineMs(options: IdleOptions): number {
  return 60_000 + Math.ceil(options.sessions / options.checkpoints) * 300;
}

/** The baseline: a child process holding N direct ssh2 shells. */
export async function measureIdleDirect(
  sshd: SshdHandle,
  options: IdleOptions,
): Promise<IdleResult> {
  const entry = fileURLToPath(new URL('../clients/ssh-holder.ts', import.meta.url));
  const target = { host: sshd.host, port: sshd.port, user: sshd.user, password: sshd.password };
  const child = fork(entry, [JSON.stringify(target)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ask = (request: HolderRequest, timeoutMs: number): Promise<HolderReply> =>
    withDeadline(
      new Promise<HolderReply>((resolve) => {
        child.once('message', (reply: HolderReply) => resolve(reply));
        child.send(request);
      }),
      timeoutMs,
      `the ssh2 holder's answer to ${JSON.stringify(request)}`,
    ).then((reply) => {
      if ('error' in reply) throw new Error(`ssh2 holder: ${reply.error}`);
      return reply;
    });
  try {
    await new Promise((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await ask(
      { open: WARMUP_SESSIONS, concurrency: WARMUP_SESSIONS, fillLines: options.fillLines },
      60_000,
    );
    await ask({ close: true }, 60_000);
    await sleep(options.settleMs);
    const result = await grow(options, child.pid!, [], async (count) => {
      await ask(
        { open: count, concurrency: options.concurrency, fillLines: options.fillLines },
        stepDeadlineMs(options),
      );
    });
    await ask({ close: true }, 120_000);
    return result;
  } finally {
    child.kill('SIGTERM');
    await withDeadline(exited, 10_000, 'the ssh2 holder to exit').catch(() =>
      child.kill('SIGKILL'),
    );
  }
}

/** Sallyport: N sessions through the gateway onto one fresh worker (or embedded process). */
export async function measureIdleSallyport(
  deployment: SallyportDeployment,
  options: IdleOptions,
): Promise<IdleResult> {
  const { contender, sessionHolder } = deployment;
  const others: ProcRef[] = contender.serverProcs.filter((p) => p.pid !== sessionHolder.pid);
  const held: BenchTerminal[] = [];
  const open: Grow = (count) =>
    withDeadline(
      runPool(count, options.concurrency, async () => {
        const terminal = await contender.opener.open();
        held.push(terminal);
        await fillHistory(terminal, options.fillLines);
      }).then(() => undefined),
      stepDeadlineMs(options),
      `opening ${count} sessions`,
    );
  const closeAll = async (): Promise<void> => {
    const all = held.splice(0);
    await runPool(all.length, 32, (i) => all[i]!.close());
  };
  try {
    await open(WARMUP_SESSIONS);
    await closeAll();
    await sleep(options.settleMs);
    return await grow(options, sessionHolder.pid, others, open);
  } finally {
    await withDeadline(closeAll(), 120_000, 'closing the idle sessions').catch((err: unknown) =>
      console.warn(`  warning: ${String(err)}`),
    );
  }
}
