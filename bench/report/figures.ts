// From raw samples to the figures of issue 6, each with its value per contender, spread, ratio
// to the direct baseline and — for the targeted ones — a verdict on Sallyport distributed.
// Sample figures (echo, connect) pool every sample of every round: median, p99, min–max of the
// samples. Run figures (bulk and its CPU, several runs per round; memory, fan-out, SFTP) take one
// value per run: median, min–max of runs.
import type { ContenderKey } from '../env/deployments.js';
import type { RawResults, PerContender } from '../results.js';
import { quantile, summarize } from '../measure/stats.js';

export interface Cell {
  value: number;
  min: number;
  max: number;
  /** Samples or rounds behind the value. */
  n: number;
}

export type Status = 'met' | 'missed' | 'not measured';

export interface Verdict {
  status: Status;
  /** e.g. "1.45 ms vs ≤ 1.2 ms: missed by 0.25 ms (21%)". */
  detail: string;
}

export interface Figure {
  key: string;
  label: string;
  unit: string;
  cells: PerContender<Cell>;
  /** Which way is better, for the ratio's reading. */
  better: 'lower' | 'higher';
  /** Shown in the table's target column. */
  target?: string;
  verdict?: Verdict;
  /** A note instead of values (e.g. why something was not measured). */
  note?: string;
}

const MB = 1e6;

/** What each open milestone (clients/terminal.ts OpenTiming.phases) means. */
const PHASE_LABELS: Record<string, string> = {
  authenticated: 'ssh2: SSH handshake and login done',
  shell: 'ssh2: shell channel open',
  open: 'WebSocket upgrade done',
  session: '`session` message (server and limits checked, row written, bus watched)',
  ready: '`ready` message (worker connected, shell open)',
  participants: '`participants` message (who is on the session)',
};
const fixed = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '—');

function sampleCell(samples: number[], pick: (all: number[]) => number): Cell | undefined {
  if (samples.length === 0) return undefined;
  const s = summarize(samples);
  return { value: pick(samples), min: s.min, max: s.max, n: s.n };
}

function roundCell(values: number[]): Cell | undefined {
  if (values.length === 0) return undefined;
  const s = summarize(values);
  return { value: s.median, min: s.min, max: s.max, n: s.n };
}

/**
 * One value per run from the values of its processes (the largest, or their sum); a run in which
 * no process reported one gives none.
 */
function perRun<R>(
  runs: readonly R[],
  values: (run: R) => number[],
  combine: (values: number[]) => number,
): Cell | undefined {
  return roundCell(
    runs.flatMap((run) => {
      const perProcess = values(run);
      return perProcess.length > 0 ? [combine(perProcess)] : [];
    }),
  );
}

/** A quantile of each contender's pooled samples (echo, connect). */
const quantileCells = (samples: PerContender<number[]>, q: number) =>
  perContender(samples, (s) => sampleCell(s, (a) => quantile(a, q)));

const largest = (values: number[]): number => Math.max(...values);
const sum = (values: number[]): number => values.reduce((a, v) => a + v, 0);

function perContender<T>(
  table: PerContender<T>,
  fn: (value: T, key: ContenderKey) => Cell | undefined,
): PerContender<Cell> {
  const cells: PerContender<Cell> = {};
  for (const [key, value] of Object.entries(table) as [ContenderKey, T][]) {
    const cell = fn(value, key);
    if (cell) cells[key] = cell;
  }
  return cells;
}

/** "at most" verdict on the distributed value. */
function atMost(value: number | undefined, limit: number, unit: string): Verdict {
  if (value === undefined || !Number.isFinite(value)) return { status: 'not measured', detail: '' };
  if (value <= limit)
    return { status: 'met', detail: `${fixed(value)} ${unit} ≤ ${limit} ${unit}` };
  const over = value - limit;
  return {
    status: 'missed',
    detail: `${fixed(value)} ${unit} vs ≤ ${limit} ${unit}: missed by ${fixed(over)} ${unit} (${Math.round((over / limit) * 100)}%)`,
  };
}

export function computeFigures(r: RawResults): Figure[] {
  const figures: Figure[] = [];
  const dist = (f: Figure): number | undefined => f.cells.distributed?.value;

  // ---- keystroke echo
  const echo: PerContender<number[]> = perContenderFlat(r.echo);
  const echoP50: Figure = {
    key: 'echo_p50',
    label: 'keystroke echo, median',
    unit: 'ms',
    better: 'lower',
    cells: quantileCells(echo, 0.5),
    target: '≤ 1.2 ms',
  };
  echoP50.verdict = atMost(dist(echoP50), 1.2, 'ms');
  const echoP99: Figure = {
    key: 'echo_p99',
    label: 'keystroke echo, p99',
    unit: 'ms',
    better: 'lower',
    cells: quantileCells(echo, 0.99),
    target: '≤ 3 ms',
  };
  echoP99.verdict = atMost(dist(echoP99), 3, 'ms');
  figures.push(echoP50, echoP99);

  // ---- the same in the warm-up round, the services just started (no target: not a running service)
  const echoWarmup: PerContender<number[]> = perContenderFlat(r.echoWarmup ?? {});
  figures.push(
    {
      key: 'echo_warmup_p50',
      label: 'keystroke echo in the unrecorded warm-up round (services just started), median',
      unit: 'ms',
      better: 'lower',
      cells: quantileCells(echoWarmup, 0.5),
    },
    {
      key: 'echo_warmup_p99',
      label: 'keystroke echo in the unrecorded warm-up round (services just started), p99',
      unit: 'ms',
      better: 'lower',
      cells: quantileCells(echoWarmup, 0.99),
    },
  );

  // ---- keystroke echo beside a flood (no target: the issue sets none)
  const floodEcho: PerContender<number[]> = perContenderFlat(r.floodEcho ?? {});
  figures.push(
    {
      key: 'flood_echo_p50',
      label: 'keystroke echo while another session prints flat out, median',
      unit: 'ms',
      better: 'lower',
      cells: quantileCells(floodEcho, 0.5),
    },
    {
      key: 'flood_echo_p99',
      label: 'keystroke echo while another session prints flat out, p99',
      unit: 'ms',
      better: 'lower',
      cells: quantileCells(floodEcho, 0.99),
    },
    {
      key: 'flood_rate',
      label: '… the flood meanwhile, at its browser',
      unit: 'MB/s',
      better: 'higher',
      cells: perContender(r.floodContext ?? {}, (runs) => roundCell(runs.map((c) => c.floodMBps))),
    },
    {
      key: 'flood_client_loop_p99',
      label: "… the bench's own event-loop delay meanwhile, p99 (it adds to the echo measured)",
      unit: 'ms',
      better: 'lower',
      cells: perContender(r.floodContext ?? {}, (runs) =>
        roundCell(runs.map((c) => c.clientLoopP99Ms)),
      ),
    },
  );

  // ---- bulk output
  const bulk = r.bulk;
  const throughput: Figure = {
    key: 'bulk_mbps',
    label: 'bulk output',
    unit: 'MB/s',
    better: 'higher',
    cells: perContender(bulk, (runs) => roundCell(runs.map((b) => b.mbPerSecond))),
    target: '≥ 90% of direct',
  };
  const direct = throughput.cells.direct?.value;
  const ours = dist(throughput);
  if (direct !== undefined && ours !== undefined) {
    const ratio = ours / direct;
    throughput.verdict = {
      status: ratio >= 0.9 ? 'met' : 'missed',
      detail:
        `${Math.round(ratio * 100)}% of direct (${fixed(ours, 1)} vs ${fixed(direct, 1)} MB/s)` +
        (ratio >= 0.9 ? '' : `: missed by ${Math.round((0.9 - ratio) * 100)} points`),
    };
  } else throughput.verdict = { status: 'not measured', detail: '' };
  const cpu: Figure = {
    key: 'bulk_server_cpu_ms_per_mb',
    label: 'server CPU per MB of output',
    unit: 'ms/MB',
    better: 'lower',
    cells: perContender(bulk, (runs, key) =>
      key === 'direct' ? undefined : roundCell(runs.map((b) => b.serverCpuMsPerMB)),
    ),
    target: '≤ 20 ms/MB',
  };
  cpu.verdict = atMost(dist(cpu), 20, 'ms/MB');
  const kernel: Figure = {
    key: 'bulk_server_system_share',
    label: '… share of it in the kernel (system time)',
    unit: '%',
    better: 'lower',
    cells: perContender(bulk, (runs, key) =>
      key === 'direct'
        ? undefined
        : roundCell(
            runs.map((b) => {
              const sys = Object.values(b.cpu.systemPerProcess ?? {}).reduce((a, v) => a + v, 0);
              return (sys / b.cpu.totalMs) * 100;
            }),
          ),
    ),
  };
  figures.push(throughput, cpu, kernel);
  // Where the distributed server CPU goes, process by process.
  for (const [role, match] of [
    ['gateways', /^gateway/],
    ['worker', /^worker/],
    ['Redis', /^redis$/],
  ] as const) {
    figures.push({
      key: `bulk_cpu_${role.toLowerCase()}`,
      label: `… of which ${role}`,
      unit: 'ms/MB',
      better: 'lower',
      cells: perContender(bulk, (runs, key) =>
        key === 'distributed'
          ? roundCell(
              runs.map((b) => {
                const ms = Object.entries(b.cpu.perProcess)
                  .filter(([name]) => match.test(name))
                  .reduce((sum, [, v]) => sum + v, 0);
                return ms / (b.bytes / MB);
              }),
            )
          : undefined,
      ),
    });
  }
  figures.push(
    {
      key: 'bulk_full_collections',
      label: 'full garbage collections per bulk run, Sallyport processes (a floor)',
      unit: '/run',
      better: 'lower',
      cells: perContender(bulk, (runs) =>
        perRun(runs, (b) => Object.values(b.fullCollections ?? {}).map((c) => c.count), sum),
      ),
    },
    {
      key: 'bulk_faults_per_mb',
      label: 'minor page faults per MB, server processes together',
      unit: '/MB',
      better: 'lower',
      cells: perContender(bulk, (runs) =>
        perRun(runs, (b) => (b.faultsPerMB ? Object.values(b.faultsPerMB) : []), sum),
      ),
    },
    {
      key: 'bulk_client_cpu_ms_per_mb',
      label: "client CPU per MB (the terminal's own process)",
      unit: 'ms/MB',
      better: 'lower',
      cells: perContender(bulk, (runs) => roundCell(runs.map((b) => b.clientCpuMsPerMB))),
    },
    {
      key: 'bulk_frames_per_mb',
      label: 'frames per MB at the client',
      unit: '/MB',
      better: 'lower',
      cells: perContender(bulk, (runs) => roundCell(runs.map((b) => b.frames / (b.bytes / MB)))),
    },
    {
      key: 'bulk_publishes_per_mb',
      label: 'Redis PUBLISH per MB',
      unit: '/MB',
      better: 'lower',
      cells: perContender(bulk, (runs) => {
        const pubs = runs.flatMap((b) =>
          b.redisPublishes === undefined ? [] : [b.redisPublishes / (b.bytes / MB)],
        );
        return roundCell(pubs);
      }),
    },
    {
      key: 'bulk_loop_lag_p99',
      label: 'event-loop delay p99 during bulk, worst process',
      unit: 'ms',
      better: 'lower',
      cells: perContender(bulk, (runs) =>
        perRun(runs, (b) => Object.values(b.loopLag).map((l) => l.p99), largest),
      ),
    },
    {
      key: 'bulk_machine_busy',
      label: 'machine CPU busy during bulk (all cores)',
      unit: '%',
      better: 'lower',
      cells: perContender(bulk, (runs) => roundCell(runs.map((b) => b.cpu.machineBusy * 100))),
    },
    {
      key: 'bulk_shell_paused',
      label: "time the worker's flow control kept the shell paused during bulk",
      unit: '%',
      better: 'lower',
      cells: perContender(bulk, (runs) =>
        roundCell(
          runs.flatMap((b) =>
            b.shellPausedMs ? [(100 * sum(Object.values(b.shellPausedMs))) / b.wallMs] : [],
          ),
        ),
      ),
    },
  );

  // ---- memory per idle session
  const idleN = Math.max(
    0,
    ...Object.values(r.idle).flatMap((runs) => runs.map((x) => x.sessions)),
  );
  const memory: Figure = {
    key: 'idle_rss_per_session_mb',
    label: `memory per idle session (holder RSS slope, ${idleN} sessions)`,
    unit: 'MB',
    better: 'lower',
    cells: perContender(r.idle, (runs) => roundCell(runs.map((x) => x.rssPerSession / 2 ** 20))),
    target: '≤ 0.5 MB',
  };
  memory.verdict = atMost(dist(memory), 0.5, 'MB');
  if (idleN > 0 && idleN < 500) {
    // No verdict: a slope this noisy reads "met" as easily as "missed" (or negative).
    memory.verdict = {
      status: 'not measured',
      detail: `${memory.verdict.detail} (only ${idleN} sessions: GC noise of a few MB swamps the slope; the full run uses 1,000)`,
    };
  }
  const pss: Figure = {
    key: 'idle_pss_per_session_mb',
    label: 'memory per idle session (holder PSS slope)',
    unit: 'MB',
    better: 'lower',
    cells: perContender(r.idle, (runs) => roundCell(runs.map((x) => x.pssPerSession / 2 ** 20))),
  };
  const total: Figure = {
    key: 'idle_holder_rss_mb',
    label: `holder RSS with ${idleN} idle sessions`,
    unit: 'MB',
    better: 'lower',
    cells: perContender(r.idle, (runs) =>
      roundCell(runs.map((x) => (x.points.at(-1)?.rss ?? NaN) / 2 ** 20)),
    ),
    target: '< 600 MB at 1,000',
  };
  const totalValue = dist(total);
  if (idleN >= 1000 && totalValue !== undefined) total.verdict = atMost(totalValue, 600, 'MB');
  else if (totalValue !== undefined && dist(memory) !== undefined) {
    const before = (r.idle.distributed ?? [])[0]?.points[0]?.rss ?? 0;
    const extrapolated = (before + 1000 * (dist(memory) ?? 0) * 2 ** 20) / 2 ** 20;
    total.verdict = {
      status: 'not measured',
      detail: `only ${idleN} sessions; extrapolated to 1,000: ${fixed(extrapolated, 0)} MB`,
    };
  } else total.verdict = { status: 'not measured', detail: '' };
  const gatewayPerSession: Figure = {
    key: 'idle_gateway_rss_per_session_mb',
    label: 'gateway RSS slope per idle session (distributed)',
    unit: 'MB',
    better: 'lower',
    cells: perContender(r.idle, (runs, key) =>
      key === 'distributed'
        ? roundCell(
            runs.flatMap((x) =>
              x.othersPerSession['gateway-0'] === undefined
                ? []
                : [x.othersPerSession['gateway-0'] / 2 ** 20],
            ),
          )
        : undefined,
    ),
  };
  figures.push(memory, pss, total, gatewayPerSession);

  // ---- open → first byte
  const connect = perContenderFlat(r.connect);
  const firstByte: Figure = {
    key: 'connect_first_byte_ms',
    label: 'WebSocket open → first prompt byte, median',
    unit: 'ms',
    better: 'lower',
    cells: quantileCells(connect, 0.5),
    target: '≤ direct + 15 ms',
  };
  const directFirst = firstByte.cells.direct?.value;
  const ourFirst = dist(firstByte);
  if (directFirst !== undefined && ourFirst !== undefined) {
    const extra = ourFirst - directFirst;
    const v = atMost(extra, 15, 'ms');
    firstByte.verdict = {
      status: v.status,
      detail:
        `${fixed(ourFirst, 1)} vs ${fixed(directFirst, 1)} ms: ${extra >= 0 ? '+' : '−'}${fixed(Math.abs(extra), 1)} ms` +
        (v.status === 'missed' ? `, missed by ${fixed(extra - 15, 1)} ms` : ' (≤ +15)'),
    };
  } else firstByte.verdict = { status: 'not measured', detail: '' };
  // Where the wait goes: each milestone's median time after the start.
  const phaseNames = [
    ...new Set(Object.values(r.connectPhases).flatMap((samples) => samples.flatMap(Object.keys))),
  ];
  const phaseFigures: Figure[] = phaseNames.map((name) => ({
    key: `connect_phase_${name}`,
    label: `… ${PHASE_LABELS[name] ?? name}, median`,
    unit: 'ms',
    better: 'lower',
    cells: perContender(r.connectPhases, (samples) =>
      sampleCell(
        samples.flatMap((p) => (p[name] === undefined ? [] : [p[name]])),
        (a) => quantile(a, 0.5),
      ),
    ),
  }));
  figures.push(firstByte, ...phaseFigures, {
    key: 'connect_first_byte_p99_ms',
    label: 'WebSocket open → first prompt byte, p99',
    unit: 'ms',
    better: 'lower',
    cells: quantileCells(connect, 0.99),
  });
  // No target: the figure is the password login above; most users log in with a key.
  const connectKey = perContenderFlat(r.connectKey ?? {});
  for (const [q, name] of [
    [0.5, 'median'],
    [0.99, 'p99'],
  ] as const) {
    figures.push({
      key: `connect_key_first_byte_${name}_ms`,
      label: `WebSocket open → first prompt byte after a key login, ${name}`,
      unit: 'ms',
      better: 'lower',
      cells: quantileCells(connectKey, q),
    });
  }

  // ---- fan-out
  figures.push(...fanoutFigures(r));

  // ---- SFTP
  figures.push(...sftpFigures(r));
  return figures;
}

/** Why a scenario without results has none: it failed (see Failures), or was not run. */
function missingReason(r: RawResults, scenarioLabel: string): string {
  return r.errors.some((e) => e.startsWith(scenarioLabel))
    ? 'not measured: failed (see Failures)'
    : 'not measured: not run';
}

function fanoutFigures(r: RawResults): Figure[] {
  const runs = r.fanout;
  const joiners = Math.max(0, ...runs.map((f) => f.joiners));
  const gateways = Math.max(0, ...runs.map((f) => f.gateways));
  const lag: Figure = {
    key: 'fanout_lag_p99_ms',
    label: `fan-out delivery lag p99 (1 MB/s to ${joiners} joiners on ${gateways} gateways)`,
    unit: 'ms',
    better: 'lower',
    cells: {},
    target: '≤ 20 ms, no joiner dropped',
  };
  if (runs.length === 0) {
    lag.note = missingReason(r, 'fan-out');
    lag.verdict = { status: 'not measured', detail: lag.note };
    return [lag];
  }
  const all = runs.flatMap((f) => f.lagMs);
  lag.cells.distributed = sampleCell(all, (a) => quantile(a, 0.99));
  const dropped = (pick: (f: (typeof runs)[number]) => number): number =>
    runs.reduce((n, f) => n + pick(f), 0);
  const problems = [
    [dropped((f) => f.disconnected), 'disconnected'],
    [dropped((f) => f.resynced), 'cut off for lagging (shown a fresh snapshot)'],
    [dropped((f) => f.incomplete), 'did not receive every line'],
  ] as const;
  const v = atMost(lag.cells.distributed?.value, 20, 'ms');
  const drops = problems.filter(([n]) => n > 0).map(([n, what]) => `${n} joiner(s) ${what}`);
  lag.verdict =
    drops.length > 0 ? { status: 'missed', detail: `${v.detail}; ${drops.join(', ')}` } : v;
  // Context for the verdict, Sallyport distributed only.
  const row = (
    key: string,
    label: string,
    unit: string,
    cell: Cell | undefined,
    better: Figure['better'] = 'lower',
  ): Figure => ({
    key: `fanout_${key}`,
    label,
    unit,
    better,
    cells: cell ? { distributed: cell } : {},
  });
  const cpuShare = (pick: (cpu: (typeof runs)[number]['cpu']) => number): Cell | undefined =>
    roundCell(runs.map((f) => (pick(f.cpu) / f.cpu.wallMs) * 100));
  const loopP99 = (names: (name: string) => boolean): Cell | undefined =>
    perRun(
      runs,
      (f) => Object.entries(f.loopLag).flatMap(([n, l]) => (names(n) ? [l.p99] : [])),
      largest,
    );
  const owner = runs.flatMap((f) => f.ownerLagMs);
  return [
    lag,
    row(
      'lag_p50_ms',
      '… fan-out delivery lag, median',
      'ms',
      sampleCell(all, (a) => quantile(a, 0.5)),
    ),
    row(
      'owner_lag_p99_ms',
      '… lag at the owner (no fan-out), p99',
      'ms',
      sampleCell(owner, (a) => quantile(a, 0.99)),
    ),
    row(
      'rate_mbps',
      '… output rate the shell achieved',
      'MB/s',
      roundCell(runs.map((f) => f.bytesPerSecond / MB)),
      'higher',
    ),
    row(
      'server_cpu_pct',
      '… server CPU during fan-out (all processes, of one core)',
      '%',
      cpuShare((cpu) => cpu.totalMs),
    ),
    row(
      'loop_lag_p99',
      '… event-loop delay p99, worst server process',
      'ms',
      loopP99((name) => name !== 'browsers'),
    ),
    row(
      'bench_loop_lag_p99',
      "… the browsers' process: event-loop delay p99 (it adds to the lag measured)",
      'ms',
      loopP99((name) => name === 'browsers'),
    ),
    row(
      'client_cpu_pct',
      "… the browsers' process: CPU (owner and joiners, of one core)",
      '%',
      cpuShare((cpu) => cpu.clientMs),
    ),
  ];
}

function sftpFigures(r: RawResults): Figure[] {
  const ours = r.sftp.sallyport;
  const note = ours.length === 0 ? missingReason(r, 'sftp · Sallyport') : undefined;
  const figures: Figure[] = [];
  for (const direction of ['upload', 'download'] as const) {
    const pick = (t: { uploadMBps: number; downloadMBps: number }): number =>
      direction === 'upload' ? t.uploadMBps : t.downloadMBps;
    const f: Figure = {
      key: `sftp_${direction}_mbps`,
      label: `SFTP ${direction} (OpenSSH sftp as the baseline)`,
      unit: 'MB/s',
      better: 'higher',
      cells: {},
      target: '≥ 70% of OpenSSH sftp',
    };
    const baseline = roundCell(r.sftp.openssh.map(pick));
    if (baseline) f.cells.direct = baseline;
    const cell = roundCell(ours.map(pick));
    if (cell && baseline) {
      f.cells.distributed = cell;
      const ratio = cell.value / baseline.value;
      f.verdict = {
        status: ratio >= 0.7 ? 'met' : 'missed',
        detail:
          `${Math.round(ratio * 100)}% of OpenSSH (${fixed(cell.value, 1)} vs ${fixed(baseline.value, 1)} MB/s)` +
          (ratio >= 0.7 ? '' : `: missed by ${Math.round((0.7 - ratio) * 100)} points`),
      };
    } else {
      if (cell) f.cells.distributed = cell;
      f.note = note ?? 'not measured: no OpenSSH baseline';
      f.verdict = { status: 'not measured', detail: f.note };
    }
    figures.push(f);
  }
  // Peak growth over the transfers, the worst round; the sftp-worker's has the target.
  const growth = (name: (s: (typeof ours)[number]) => string | undefined): Cell | undefined =>
    roundCell(
      ours.flatMap((s) => {
        const bytes = s.rssGrowth[name(s) ?? ''];
        return bytes === undefined ? [] : [bytes / 2 ** 20];
      }),
    );
  const worker: Figure = {
    key: 'sftp_worker_rss_growth_mb',
    label: 'SFTP: sftp-worker peak RSS growth during the transfers',
    unit: 'MB',
    better: 'lower',
    cells: {},
    target: '≤ 100 MB',
  };
  const workerCell = growth((s) => s.sftpWorker);
  if (workerCell) {
    worker.cells.distributed = workerCell;
    worker.verdict = atMost(workerCell.max, 100, 'MB');
    worker.verdict.detail += ' (the worst round)';
  } else {
    worker.note = note ?? 'not measured';
    worker.verdict = { status: 'not measured', detail: worker.note };
  }
  const gatewayCell = growth(() => 'gateway-0');
  figures.push(worker, {
    key: 'sftp_gateway_rss_growth_mb',
    label: '… gateway peak RSS growth during the transfers',
    unit: 'MB',
    better: 'lower',
    cells: gatewayCell ? { distributed: gatewayCell } : {},
  });
  // Where the time goes, one row per measurement of the transfers that have it.
  const row = (
    key: string,
    label: string,
    unit: string,
    value: (s: (typeof ours)[number]) => number | undefined,
  ): void => {
    const cell = roundCell(
      ours.flatMap((s) => {
        const v = value(s);
        return v === undefined ? [] : [v];
      }),
    );
    if (cell) figures.push({ key, label, unit, better: 'lower', cells: { distributed: cell } });
  };
  for (const direction of ['upload', 'download'] as const) {
    // CPU per MB of the processes that carry the bytes (sshd not included).
    for (const name of ['gateway-0', 'sftp-worker', 'client']) {
      row(
        `sftp_${direction}_cpu_${name.replace(/\W/g, '_')}`,
        `… ${direction}: CPU per MB, ${name === 'client' ? 'the browser stand-in' : name}`,
        'ms/MB',
        (s) => s.cpuMsPerMB?.[direction][name],
      );
    }
    // The gateway's CPU per MB has been seen to go from about 1.5 ms to 6–8 in some rounds, with
    // the same number of system calls and 100–210 page faults per MB instead of 1–2.
    row(
      `sftp_${direction}_faults_gateway_0`,
      `… ${direction}: minor page faults per MB, gateway-0`,
      '/MB',
      (s) => s.faultsPerMB?.[direction]['gateway-0'],
    );
    // A process's CPU per MB can triple when V8 marks its whole heap every few MB: say so.
    row(
      `sftp_${direction}_full_gcs`,
      `… ${direction}: full garbage collections, Sallyport processes (a floor)`,
      '/transfer',
      (s) => {
        const counts = s.fullCollections?.[direction];
        return counts && sum(Object.values(counts));
      },
    );
  }
  return figures;
}

function perContenderFlat(table: PerContender<number[][]>): PerContender<number[]> {
  const flat: PerContender<number[]> = {};
  for (const [key, rounds] of Object.entries(table) as [ContenderKey, number[][]][]) {
    flat[key] = rounds.flat();
  }
  return flat;
}
