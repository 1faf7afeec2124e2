// The benchmark's settings: the full run (the figures in docs/performance.md) and --quick (under
// two minutes, for use while developing), with a few overrides from the command line.
import { loadConfig } from '@sallyport/config';
import type { ContenderKey } from './env/deployments.js';
import type { EchoOptions } from './scenarios/echo.js';
import type { FanoutOptions } from './scenarios/fanout.js';
import type { IdleOptions } from './scenarios/idle-memory.js';

export const SCENARIOS = ['connect', 'echo', 'flood', 'bulk', 'idle', 'fanout', 'sftp'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchConfig {
  quick: boolean;
  /** Interleaved rounds of connect, echo, echo beside a flood, and bulk. */
  rounds: number;
  /** One unrecorded round first, so the services are measured warm (see run.ts). */
  warmupRound: boolean;
  scenarios: ReadonlySet<ScenarioName>;
  contenders: readonly ContenderKey[];
  connectSamples: number;
  echo: EchoOptions;
  /**
   * Keystrokes the warm-up round types (at echo.gapMs), instead of echo.keystrokes: a service
   * takes about half a minute of typing to reach the speed it keeps (see run.ts). The full run
   * gives it that; --quick has no warm-up round.
   */
  echoWarmupKeystrokes: number;
  /** Random bytes base64-encoded by the shell (the output is ~1.35× this). */
  bulkInputBytes: number;
  /** Bulk runs per contender and round; each is one sample of the bulk figures. */
  bulkRunsPerRound: number;
  idle: IdleOptions & { rounds: number };
  fanout: FanoutOptions & { rounds: number };
  sftp: { bytes: number; rounds: number };
  /** Before each measurement, wait up to this long for other processes to leave the CPUs idle. */
  quietWaitMs: number;
  /** Acknowledge rendered output as the browser does ('off' only to see what acks cost). */
  acks: 'on' | 'off';
  /** Write V8 CPU profiles of every Sallyport process here (node --cpu-prof). */
  cpuProfDir: string | undefined;
  outDir: string;
}

/**
 * A session's screen is compacted once it has had no output this long (the product's default
 * SALLYPORT_SCREEN_COMPACT_AFTER_S), and an idle session spends nearly all its life that way:
 * the full run reads memory after it.
 */
const SCREEN_COMPACT_AFTER_MS = loadConfig(process.env).session.screenCompactAfterMs;

const ALL_CONTENDERS: readonly ContenderKey[] = ['direct', 'distributed', 'embedded'];

const FULL: Omit<BenchConfig, 'scenarios' | 'acks' | 'cpuProfDir' | 'outDir'> = {
  quick: false,
  rounds: 5,
  warmupRound: true,
  contenders: ALL_CONTENDERS,
  connectSamples: 30,
  echo: { keystrokes: 300, warmup: 30, gapMs: 10 },
  echoWarmupKeystrokes: 3_000,
  bulkInputBytes: 50_000_000, // the issue's `head -c 50000000 /dev/urandom | base64`
  bulkRunsPerRound: 3,
  idle: {
    sessions: 1000,
    concurrency: 16,
    checkpoints: 4,
    settleMs: SCREEN_COMPACT_AFTER_MS + 2_000,
    fillLines: 1000,
    rounds: 2,
  },
  fanout: { joiners: 50, seconds: 20, bytesPerSecond: 1_000_000, rounds: 3 },
  sftp: { bytes: 256 * 1024 * 1024, rounds: 3 },
  quietWaitMs: 60_000,
};

// Under two minutes: 103 s on a 2-core VM where the full run took 44 minutes (193 s with a warm-up
// round, the embedded row and 60 idle sessions). So it leaves out what costs most and is judged
// least: the warm-up round (its figures are the services' first minute, as --no-warmup's) and the
// embedded row (--contenders adds it back).
const QUICK: typeof FULL = {
  quick: true,
  rounds: 2,
  warmupRound: false,
  contenders: ['direct', 'distributed'],
  connectSamples: 3,
  echo: { keystrokes: 100, warmup: 10, gapMs: 10 },
  echoWarmupKeystrokes: 100, // for a warm-up round, which --quick leaves out
  bulkInputBytes: 15_000_000,
  bulkRunsPerRound: 1,
  idle: {
    sessions: 30,
    concurrency: 16,
    // Three, so the slope starts at the first checkpoint (see idle-memory.ts grow()): a fresh
    // process's start-up memory (PGlite's, in embedded mode) is not what a session costs.
    checkpoints: 3,
    // No verdict at this size anyway (report/figures.ts); half a second keeps it quick, and
    // reads the screens before they are compacted.
    settleMs: 500,
    fillLines: 200,
    rounds: 1,
  },
  fanout: { joiners: 10, seconds: 5, bytesPerSecond: 1_000_000, rounds: 1 },
  sftp: { bytes: 32 * 1024 * 1024, rounds: 1 },
  // Every step samples the machine for at least 0.5 s; on a busy machine, no longer than that.
  quietWaitMs: 500,
};

export const USAGE = `usage: npm run bench -- [options]

  --quick              a smaller run that takes under two minutes: no warm-up round, and
                       direct and distributed only unless --contenders says otherwise
  --rounds N           interleaved rounds of connect, echo, flood and bulk (default 5, quick 2)
  --no-warmup          measure from the first round (the services cold, just started; quick always)
  --only a,b           scenarios to run: ${SCENARIOS.join(', ')}
  --contenders a,b     direct, distributed, embedded (default all, quick direct,distributed)
  --sessions N         idle sessions per memory round (default 1000, quick 30)
  --quiet-wait S       wait up to S seconds for an idle machine before each step (default 60, quick 0.5)
  --acks on|off        acknowledge rendered output as the browser does (default on)
  --cpu-prof DIR       write V8 CPU profiles of the Sallyport processes to DIR
  --out DIR            where the JSON results go (default bench/results)
`;

export function parseArgs(argv: readonly string[]): BenchConfig {
  const args = [...argv];
  const take = (flag: string): string => {
    const value = args.shift();
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
    return value;
  };
  const positiveInt = (flag: string): number => {
    const value = Number(take(flag));
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`${flag} must be a positive integer`);
    return value;
  };
  const list = <T extends string>(flag: string, allowed: readonly T[]): T[] => {
    const values = take(flag)
      .split(',')
      .map((v) => v.trim());
    const bad = values.filter((v) => !allowed.includes(v as T));
    if (bad.length > 0)
      throw new Error(`${flag}: unknown ${bad.join(', ')} (one of ${allowed.join(', ')})`);
    return values as T[];
  };

  let quick = false;
  let rounds: number | undefined;
  let sessions: number | undefined;
  let quietWaitS: number | undefined;
  let scenarios: ScenarioName[] = [...SCENARIOS];
  let contenders: readonly ContenderKey[] | undefined;
  let acks: BenchConfig['acks'] = 'on';
  let warmupRound: boolean | undefined;
  let cpuProfDir: string | undefined;
  let outDir = 'bench/results';
  while (args.length > 0) {
    const flag = args.shift()!;
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--rounds':
        rounds = positiveInt(flag);
        break;
      case '--no-warmup':
        warmupRound = false;
        break;
      case '--sessions':
        sessions = positiveInt(flag);
        break;
      case '--quiet-wait':
        quietWaitS = Number(take(flag));
        if (!(quietWaitS >= 0)) throw new Error(`${flag} must be a number of seconds`);
        break;
      case '--only':
        scenarios = list(flag, SCENARIOS);
        break;
      case '--contenders':
        contenders = list(flag, ALL_CONTENDERS);
        break;
      case '--acks':
        acks = list(flag, ['on', 'off'] as const)[0]!;
        break;
      case '--cpu-prof':
        cpuProfDir = take(flag);
        break;
      case '--out':
        outDir = take(flag);
        break;
      case '--help':
      case '-h':
        throw new UsageRequested();
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  const base = quick ? QUICK : FULL;
  return {
    ...base,
    rounds: rounds ?? base.rounds,
    warmupRound: warmupRound ?? base.warmupRound,
    idle: { ...base.idle, sessions: sessions ?? base.idle.sessions },
    quietWaitMs: quietWaitS === undefined ? base.quietWaitMs : quietWaitS * 1000,
    scenarios: new Set(scenarios),
    contenders: contenders ?? base.contenders,
    acks,
    cpuProfDir,
    outDir,
  };
}

export class UsageRequested extends Error {}
