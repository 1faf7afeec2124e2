// One benchmark run: start the environment, run every scenario for every contender in
// interleaved rounds (the order rotates each round, so no contender always goes first on a warm
// or cold machine), and collect raw results. Every step is bounded in time; everything started
// is stopped again, also on failure or Ctrl-C.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SshdHandle } from '../tests/harness/sshd.js';
import type { BenchConfig, ScenarioName } from './config.js';
import {
  CONTENDER_LABELS,
  deployDistributed,
  deployEmbedded,
  directContender,
  startBenchSshd,
  type Contender,
  type ContenderKey,
  type DeployOptions,
  type SallyportDeployment,
} from './env/deployments.js';
import { waitForQuietMachine } from './measure/quiet.js';
import { fmt, quantile } from './measure/stats.js';
import { emptyResults, record, type RawResults, type RunMeta } from './results.js';
import { startBulkBrowser, type BulkBrowser } from './scenarios/bulk.js';
import { measureConnect } from './scenarios/connect.js';
import { measureEcho } from './scenarios/echo.js';
import { measureEchoBesideFlood } from './scenarios/flood-echo.js';
import { measureFanout } from './scenarios/fanout.js';
import { measureIdleDirect, measureIdleSallyport } from './scenarios/idle-memory.js';
import {
  measureOpenSshSftp,
  measureSallyportSftp,
  sftpFixture,
  type SftpFixture,
} from './scenarios/sftp.js';
import { withDeadline } from './util.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Set by Ctrl-C / SIGTERM: no further measurement starts while everything is stopped. */
let aborted = false;

/** Environment that makes a Node process write a CPU profile into `dir` when it exits. */
function profilerEnv(dir: string): Record<string, string> {
  const preload = fileURLToPath(new URL('./tools/cpu-profile-preload.mjs', import.meta.url));
  mkdirSync(resolve(dir), { recursive: true });
  return { NODE_OPTIONS: `--import ${preload}`, BENCH_CPU_PROF_DIR: resolve(dir) };
}

/** Each contender's turn in round `round`: the list rotated by the round number. */
function rotate<T>(items: readonly T[], round: number): T[] {
  const k = round % Math.max(items.length, 1);
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function runBench(config: BenchConfig): Promise<RawResults> {
  const startedAt = Date.now();
  const results = emptyResults(await describeRun(config));
  const cleanups: Array<[string, () => Promise<unknown>]> = [];
  const cleanup = async (): Promise<void> => {
    for (const [name, step] of cleanups.splice(0).reverse()) {
      await withDeadline(step(), 60_000, `stopping ${name}`).catch((err: unknown) =>
        log(`  cleanup of ${name} failed: ${String(err)}`),
      );
    }
  };
  const onSignal = (): void => {
    aborted = true;
    log('interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const starting = ['sshd'];
    if (config.contenders.includes('distributed')) {
      starting.push(`${CONTENDER_LABELS.distributed} (with Redis and a PostgreSQL database)`);
    }
    if (config.contenders.includes('embedded')) starting.push(CONTENDER_LABELS.embedded);
    log(`starting ${starting.join(', ')}`);
    const sshd = await startBenchSshd();
    cleanups.push(['sshd', () => sshd.stop()]);
    const deployOptions: DeployOptions = {
      sshd,
      acks: config.acks === 'on',
      gateways: 2,
      maxSessions: 100,
      sftp: config.scenarios.has('sftp'),
      ...(config.cpuProfDir ? { env: profilerEnv(config.cpuProfDir) } : {}),
    };
    const contenders = new Map<ContenderKey, Contender>();
    if (config.contenders.includes('direct')) contenders.set('direct', directContender(sshd));
    // The deployments start at once: start-up is much of what --quick waits for, and nothing is
    // measured yet. Whatever started is stopped again, even if another failed.
    const keys = (['distributed', 'embedded'] as const).filter((k) =>
      config.contenders.includes(k),
    );
    const deployed = await Promise.allSettled(
      keys.map((key) =>
        (key === 'distributed' ? deployDistributed : deployEmbedded)(deployOptions),
      ),
    );
    keys.forEach((key, i) => {
      const deployment = deployed[i]!;
      if (deployment.status === 'rejected') return;
      cleanups.push([CONTENDER_LABELS[key], () => deployment.value.stop()]);
      contenders.set(key, deployment.value.contender);
      results.meta.processes[key] = deployment.value.contender.serverProcs;
    });
    for (const d of deployed) if (d.status === 'rejected') throw d.reason;
    const order = [...contenders.values()];
    const has = (s: ScenarioName): boolean => config.scenarios.has(s);

    /**
     * A bulk run is over in 1–3 s, and the direct connection's throughput swings by half from
     * one to the next: several per round make the median steadier. One browser process per
     * round, loaded before the first run's wait for a quiet machine.
     */
    const runBulk = async (
      contender: Contender,
      label: string,
      sink: RawResults,
    ): Promise<void> => {
      let browser: BulkBrowser;
      try {
        browser = await startBulkBrowser(contender);
      } catch (err) {
        recordFailure(sink, `bulk · ${label}`, err);
        return;
      }
      try {
        for (let run = 1; run <= config.bulkRunsPerRound; run++) {
          const which = config.bulkRunsPerRound > 1 ? ` ${run}/${config.bulkRunsPerRound}` : '';
          await attempt(sink, `bulk${which} · ${label}`, 300_000, async () => {
            const bulk = await browser.measure({
              inputBytes: config.bulkInputBytes,
              timeoutMs: 240_000,
            });
            record(sink.bulk, contender.key, bulk);
            const collections = Object.entries(bulk.fullCollections ?? {})
              .filter(([, c]) => c.count > 0)
              .map(([name, c]) => `${name} ${c.count}`);
            const pauses = Object.entries(bulk.shellPausedMs ?? {})
              .filter(([, ms]) => ms > 0)
              .map(([reason, ms]) => `${reason} ${fmt((100 * ms) / bulk.wallMs)}%`);
            return (
              `${fmt(bulk.mbPerSecond)} MB/s, server CPU ${fmt(bulk.serverCpuMsPerMB)} ms/MB, ` +
              `${fmt(bulk.frames / (bulk.bytes / 1e6))} frames/MB` +
              (collections.length > 0 ? `, full GCs: ${collections.join(', ')}` : '') +
              (pauses.length > 0 ? `, shell paused: ${pauses.join(', ')}` : '')
            );
          });
        }
      } finally {
        await browser.stop();
      }
    };

    /**
     * One contender's connect, echo, flood and bulk into `into`; for the warm-up (`into` null),
     * only its echo is kept, apart (results.echoWarmup).
     */
    const runRound = async (contender: Contender, into: RawResults | null): Promise<void> => {
      const label = `${into ? '' : 'warm-up '}${CONTENDER_LABELS[contender.key]}`;
      // Failures are reported either way.
      const sink = into ?? emptyResults(results.meta);
      if (has('connect')) {
        await attempt(sink, `connect · ${label}`, 120_000, async () => {
          const { firstByteMs, phases } = await measureConnect(
            contender.opener,
            config.connectSamples,
          );
          record(sink.connect, contender.key, firstByteMs);
          for (const p of phases) record(sink.connectPhases, contender.key, p);
          return `first byte median ${fmt(quantile(firstByteMs, 0.5))} ms`;
        });
        await attempt(sink, `connect with a key · ${label}`, 120_000, async () => {
          const { firstByteMs } = await measureConnect(
            contender.keyLoginOpener,
            config.connectSamples,
          );
          record((sink.connectKey ??= {}), contender.key, firstByteMs);
          return `first byte median ${fmt(quantile(firstByteMs, 0.5))} ms`;
        });
      }
      if (has('echo')) {
        await attempt(sink, `echo · ${label}`, 180_000, async () => {
          const terminal = await contender.opener.open();
          try {
            const { latenciesMs } = await measureEcho(terminal, {
              ...config.echo,
              keystrokes: into ? config.echo.keystrokes : config.echoWarmupKeystrokes,
            });
            // The warm-up's echo is kept apart: the report shows it, without a target.
            record(into ? sink.echo : (results.echoWarmup ??= {}), contender.key, latenciesMs);
            return `p50 ${fmt(quantile(latenciesMs, 0.5))} ms, p99 ${fmt(quantile(latenciesMs, 0.99))} ms`;
          } finally {
            await terminal.close();
          }
        });
      }
      if (has('flood')) {
        await attempt(sink, `echo beside a flood · ${label}`, 180_000, async () => {
          const { latenciesMs, ...context } = await measureEchoBesideFlood(contender, config.echo);
          record((sink.floodEcho ??= {}), contender.key, latenciesMs);
          record((sink.floodContext ??= {}), contender.key, context);
          return (
            `p50 ${fmt(quantile(latenciesMs, 0.5))} ms, p99 ${fmt(quantile(latenciesMs, 0.99))} ms; ` +
            `flood ${fmt(context.floodMBps)} MB/s, bench loop p99 ${fmt(context.clientLoopP99Ms)} ms`
          );
        });
      }
      if (has('bulk')) await runBulk(contender, label, sink);
      if (!into) results.errors.push(...sink.errors);
    };

    const interleaved = has('connect') || has('echo') || has('flood') || has('bulk');
    if (interleaved && config.warmupRound) {
      // The services' first half-minute of work is not what a running service does: V8 still
      // interprets and compiles the hot paths (each process spends two to three times the CPU
      // per keystroke it spends later), and the first echo round took most of the slow
      // keystrokes of a run. One round of everything, not recorded, warms every contender alike;
      // its echo types for about half a minute, which a single round's 300 keystrokes did not
      // cover: measured after it, the p99 fell from 3.8–4.1 ms to 2.6 (docs/performance.md).
      log('warm-up round (not recorded)');
      for (const contender of order) await runRound(contender, null);
    }
    for (let round = 0; round < config.rounds && interleaved; round++) {
      log(`round ${round + 1}/${config.rounds}`);
      for (const contender of rotate(order, round)) await runRound(contender, results);
    }

    if (has('idle')) await runIdle(config, sshd, results);

    const distributed = contenders.get('distributed');
    if (has('fanout') && distributed) {
      for (let round = 0; round < config.fanout.rounds; round++) {
        const done = await attempt(results, `fan-out · round ${round + 1}`, 300_000, async () => {
          const f = await measureFanout(distributed, config.fanout);
          results.fanout.push(f);
          const pct = (ms: number): string => `${fmt((ms / f.cpu.wallMs) * 100)}%`;
          return (
            `p99 lag ${fmt(quantile(f.lagMs, 0.99))} ms (owner ${fmt(quantile(f.ownerLagMs, 0.99))} ms), ` +
            `${f.joiners} joiners at ${fmt(f.bytesPerSecond / 1e6)} MB/s: ${f.disconnected} disconnected, ` +
            `${f.resynced} cut off, ${f.incomplete} missed lines; CPU: server ${pct(f.cpu.totalMs)}, ` +
            `browsers ${pct(f.cpu.clientMs)}, machine ${fmt(f.cpu.machineBusy * 100)}% busy; ` +
            `loop delay p99 ms: ${Object.entries(f.loopLag)
              .map(([name, lag]) => `${name} ${fmt(lag.p99)}`)
              .join(', ')}`
          );
        });
        if (!done) break;
      }
    }

    if (has('sftp')) await runSftp(config, sshd, distributed, results);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    log('stopping everything');
    await cleanup();
  }
  results.meta.loadAverage.end = loadavg()[0] ?? 0;
  results.meta.durationSeconds = (Date.now() - startedAt) / 1000;
  return results;
}

/**
 * Runs one measurement with a deadline, after waiting (bounded) for a quiet machine; a failure
 * is recorded and the run goes on.
 */
async function attempt(
  results: RawResults,
  what: string,
  timeoutMs: number,
  step: () => Promise<string>,
): Promise<boolean> {
  if (aborted) throw new Error('interrupted');
  const check = await waitForQuietMachine(results.meta.config.quietWaitMs);
  results.machine.push({ what, busy: check.busy, waitedMs: check.waitedMs });
  if (!check.quiet) {
    log(
      `  note: the machine is ${Math.round(check.busy * 100)}% busy with other work; measuring anyway`,
    );
  }
  const t0 = performance.now();
  try {
    const summary = await withDeadline(step(), timeoutMs, what);
    log(`  ${what}: ${summary} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return true;
  } catch (err) {
    recordFailure(results, what, err);
    return false;
  }
}

function recordFailure(results: RawResults, what: string, err: unknown): void {
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  results.errors.push(message);
  log(`  FAILED ${message}`);
}

async function runIdle(config: BenchConfig, sshd: SshdHandle, results: RawResults): Promise<void> {
  const keys = config.contenders;
  const deployOptions: DeployOptions = {
    sshd,
    // Each session prints its history before it idles; a browser acknowledges that.
    acks: config.acks === 'on',
    gateways: 1,
    maxSessions: config.idle.sessions + 50,
    sftp: false,
  };
  const deadline = 180_000 + config.idle.sessions * 400;
  for (let round = 0; round < config.idle.rounds; round++) {
    log(
      `idle memory, round ${round + 1}/${config.idle.rounds}: ${config.idle.sessions} sessions each`,
    );
    for (const key of rotate(keys, round)) {
      await attempt(results, `idle · ${CONTENDER_LABELS[key]}`, deadline, async () => {
        let idle;
        if (key === 'direct') {
          idle = await measureIdleDirect(sshd, config.idle);
        } else {
          // Fresh processes every round: memory freed by an earlier round would be reused.
          const deployment: SallyportDeployment = await (
            key === 'distributed' ? deployDistributed : deployEmbedded
          )(deployOptions);
          try {
            idle = await measureIdleSallyport(deployment, config.idle);
          } finally {
            await deployment.stop();
          }
        }
        record(results.idle, key, idle);
        const mb = (b: number): string => fmt(b / 2 ** 20);
        const rss = idle.points.map((p) => `${p.sessions}: ${mb(p.rss)}`).join(', ');
        return `${mb(idle.rssPerSession)} MB RSS per session (holder MB at ${rss}), opened in ${fmt(idle.openSeconds)} s`;
      });
    }
  }
}

async function runSftp(
  config: BenchConfig,
  sshd: SshdHandle,
  distributed: Contender | undefined,
  results: RawResults,
): Promise<void> {
  let fixture: SftpFixture | undefined;
  try {
    fixture = await sftpFixture(sshd, config.sftp.bytes);
    for (let round = 0; round < config.sftp.rounds; round++) {
      for (const side of rotate(['openssh', 'sallyport'] as const, round)) {
        const f = fixture;
        if (side === 'openssh') {
          await attempt(results, `sftp · OpenSSH sftp · round ${round + 1}`, 600_000, async () => {
            const t = await measureOpenSshSftp(sshd, f, config.sftp.bytes);
            results.sftp.openssh.push(t);
            return `upload ${fmt(t.uploadMBps)} MB/s, download ${fmt(t.downloadMBps)} MB/s`;
          });
        } else if (distributed) {
          await attempt(results, `sftp · Sallyport · round ${round + 1}`, 600_000, async () => {
            const s = await measureSallyportSftp(distributed, f, config.sftp.bytes);
            results.sftp.sallyport.push(s);
            const growth = Object.entries(s.rssGrowth)
              .map(([name, bytes]) => `${name} ${fmt(bytes / 2 ** 20)}`)
              .join(', ');
            return `upload ${fmt(s.uploadMBps)} MB/s, download ${fmt(s.downloadMBps)} MB/s; peak RSS growth MB: ${growth}`;
          });
        }
      }
    }
  } finally {
    await fixture?.cleanup();
  }
}

async function describeRun(config: BenchConfig): Promise<RunMeta> {
  const sh = (cmd: string, args: string[]): string => {
    try {
      // Some tools (ssh -V) print their version on stderr.
      return execFileSync(cmd, args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    } catch (err) {
      return String((err as { stderr?: string }).stderr ?? '').trim();
    }
  };
  const sshVersion = execFileSync('sh', ['-c', 'ssh -V 2>&1'], { encoding: 'utf8' }).trim();
  const cpuList = cpus();
  return {
    date: new Date().toISOString(),
    machine: {
      cpus: cpuList.length,
      model: cpuList[0]?.model ?? 'unknown',
      memoryGB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
    },
    versions: {
      node: process.version,
      openssh: sshVersion.split(',')[0] ?? sshVersion,
      redis: /v=(\S+)/.exec(sh('redis-server', ['--version']))?.[1] ?? 'unknown',
      ssh2: await packageVersion('ssh2'),
      ws: await packageVersion('ws'),
      ioredis: await packageVersion('ioredis'),
    },
    git: {
      commit: sh('git', ['rev-parse', 'HEAD']),
      dirty: sh('git', ['status', '--porcelain']).length > 0,
    },
    config: { ...config, scenarios: [...config.scenarios] },
    acks: config.acks,
    loadAverage: { start: loadavg()[0] ?? 0, end: 0 },
    durationSeconds: 0,
    processes: {},
  };
}

async function packageVersion(name: string): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(`node_modules/${name}/package.json`, 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}
