// Everything one run measured, as raw samples: the JSON file holds this, and the report's
// figures and verdicts are computed from it (report/figures.ts), so they can be recomputed.
import type { ContenderKey } from './env/deployments.js';
import type { BenchConfig } from './config.js';
import type { BulkResult } from './scenarios/bulk.js';
import type { FanoutResult } from './scenarios/fanout.js';
import type { IdleResult } from './scenarios/idle-memory.js';
import type { SftpResult, Transfer } from './scenarios/sftp.js';

export type PerContender<T> = Partial<Record<ContenderKey, T>>;

export interface RunMeta {
  date: string;
  machine: {
    cpus: number;
    model: string;
    memoryGB: number;
    kernel: string;
  };
  versions: Record<string, string>;
  git: { commit: string; dirty: boolean };
  config: Omit<BenchConfig, 'scenarios'> & { scenarios: string[] };
  acks: string;
  /** 1-minute load average at start and end: another busy process on the machine shows here. */
  loadAverage: { start: number; end: number };
  durationSeconds: number;
  /** The server processes measured, by contender: names and pids (CPU profiles are per pid). */
  processes: Record<string, { name: string; pid: number }[]>;
}

export interface RawResults {
  meta: RunMeta;
  /** Per round, the open → first byte samples (ms). */
  connect: PerContender<number[][]>;
  /** Every connect sample's milestones (ms since the start), for the breakdown. */
  connectPhases: PerContender<Record<string, number>[]>;
  /** Per round, the open → first byte samples (ms) with a key login instead of a password. */
  connectKey?: PerContender<number[][]>;
  /** Per round, the echo latency samples (ms). */
  echo: PerContender<number[][]>;
  /** The warm-up round's echo samples (ms): the services in their first minute of typing. */
  echoWarmup?: PerContender<number[][]>;
  /** Per round, echo latency samples in a session beside one printing flat out (ms). */
  floodEcho?: PerContender<number[][]>;
  /** Per round, how fast the flood came and the bench's own event-loop delay meanwhile. */
  floodContext?: PerContender<{ floodMBps: number; clientLoopP99Ms: number }[]>;
  bulk: PerContender<BulkResult[]>;
  idle: PerContender<IdleResult[]>;
  fanout: FanoutResult[];
  sftp: { openssh: Transfer[]; sallyport: SftpResult[] };
  /** Scenario failures, which the report lists instead of a figure. */
  errors: string[];
  /** How busy the machine was (0–1, all cores) just before each measurement, and the wait. */
  machine: { what: string; busy: number; waitedMs: number }[];
}

export function emptyResults(meta: RunMeta): RawResults {
  return {
    meta,
    connect: {},
    connectPhases: {},
    connectKey: {},
    echo: {},
    echoWarmup: {},
    floodEcho: {},
    floodContext: {},
    bulk: {},
    idle: {},
    fanout: [],
    sftp: { openssh: [], sallyport: [] },
    errors: [],
    machine: [],
  };
}

/** Appends `value` to results[key][contender], creating the list. */
export function record<T>(table: PerContender<T[]>, contender: ContenderKey, value: T): void {
  (table[contender] ??= []).push(value);
}
