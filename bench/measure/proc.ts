// CPU time and memory of processes, read from /proc: what the kernel charged them, not what
// they say about themselves, so every process (Node services and redis-server alike) is
// measured the same way.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second (the unit of utime/stime in /proc/<pid>/stat). */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** A process whose resources are sampled, by role ("gateway", "worker", "redis", …). */
export interface ProcRef {
  name: string;
  pid: number;
}

/** User + system CPU time of the whole process (every thread), in milliseconds. */
export function cpuMs(pid: number): number {
  const { user, system } = cpuSplitMs(pid);
  return user + system;
}

/** User and system (kernel: syscalls, loopback TCP) CPU time of the process, in milliseconds. */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const fields = statFields(pid);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { user: (utime * 1000) / CLK_TCK, system: (stime * 1000) / CLK_TCK };
}

/**
 * Read and write system calls the process has made (`syscr` and `syscw` in /proc/<pid>/io): how
 * many pieces its bytes moved in.
 */
export function ioCalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const count = (field: string): number =>
    Number(new RegExp(`^${field}: (\\d+)$`, 'm').exec(io)?.[1]);
  return count('syscr') + count('syscw');
}

/**
 * Minor page faults of the process so far (field 10 of /proc/<pid>/stat): pages the kernel had
 * to map for it, as when an allocator gives freed memory back and takes it again.
 */
export function minorFaults(pid: number): number {
  return Number(statFields(pid)[7]);
}

/** /proc/<pid>/stat from field 3 (state) on: the command name before it may contain spaces. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Proportional set size in bytes: shared pages divided among the processes sharing them. */
export function pssBytes(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const match = /^Pss:\s+(\d+) kB/m.exec(rollup);
  return match ? Number(match[1]) * 1024 : 0;
}

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) * 1024;
}

/** Whole-machine CPU counters (first line of /proc/stat), in milliseconds. */
function machineCpu(): { busyMs: number; totalMs: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    values;
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: (busy * 1000) / CLK_TCK, totalMs: ((busy + idle + iowait) * 1000) / CLK_TCK };
}

export interface CpuReading {
  /** CPU milliseconds per process over the interval. */
  perProcess: Record<string, number>;
  /** Of which in the kernel (system time), per process. */
  systemPerProcess: Record<string, number>;
  /** Sum over the processes. */
  totalMs: number;
  /** This (client) process's own CPU milliseconds. */
  clientMs: number;
  /** Share of the whole machine's CPU capacity that was busy (0–1), whoever used it. */
  machineBusy: number;
  wallMs: number;
}

/**
 * Starts counting CPU for `procs` (and for this process and the machine); the returned
 * function stops and reports. Processes that exit in between count up to their last sample.
 */
export function startCpuMeter(procs: readonly ProcRef[]): () => CpuReading {
  const before = new Map(procs.map((p) => [p.name, cpuSplitMs(p.pid)]));
  const clientBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  const t0 = performance.now();
  return () => {
    const wallMs = performance.now() - t0;
    const perProcess: Record<string, number> = {};
    const systemPerProcess: Record<string, number> = {};
    for (const p of procs) {
      const now = cpuSplitMs(p.pid);
      const then = before.get(p.name) ?? { user: 0, system: 0 };
      perProcess[p.name] = now.user + now.system - then.user - then.system;
      systemPerProcess[p.name] = now.system - then.system;
    }
    const client = process.cpuUsage(clientBefore);
    const machine = machineCpu();
    const total = machine.totalMs - machineBefore.totalMs;
    return {
      perProcess,
      systemPerProcess,
      totalMs: Object.values(perProcess).reduce((a, b) => a + b, 0),
      clientMs: (client.user + client.system) / 1000,
      machineBusy: total > 0 ? (machine.busyMs - machineBefore.busyMs) / total : 0,
      wallMs,
    };
  };
}

/**
 * Starts counting one of the per-process counters above (`cpuMs`, `ioCalls`, `minorFaults`) for
 * `procs`; the returned function gives how much each process's count grew since, by name.
 */
export function startCounter(
  procs: readonly ProcRef[],
  read: (pid: number) => number,
): () => Record<string, number> {
  const before = procs.map((p) => read(p.pid));
  return () => Object.fromEntries(procs.map((p, i) => [p.name, read(p.pid) - before[i]!]));
}

/** Share (0–1) of the machine's CPU capacity that was busy over the next `ms`. */
export async function machineBusyOver(ms: number): Promise<number> {
  const before = machineCpu();
  await new Promise((r) => setTimeout(r, ms));
  const after = machineCpu();
  const total = after.totalMs - before.totalMs;
  return total > 0 ? (after.busyMs - before.busyMs) / total : 0;
}
