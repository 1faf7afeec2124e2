// Summarises V8 CPU profiles written by `npm run bench -- --cpu-prof DIR`: self time by package
// (ws, ioredis, ssh2, prom-client, our code, GC, …) and the hottest functions. Given the run's
// JSON (--results), it keeps only the samples taken while bulk output was flowing.
//
//   node --import tsx bench/tools/profile-summary.ts DIR [--results bench/results/x.json] [--top N]
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which package (or part of Node) a frame belongs to. */
export function packageOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:'))
    return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(0, 2).join('/') : url.slice(5)}`;
  const ours = /\/(libs|services)\/([^/]+)\//.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url;
}

export interface Summary {
  file: string;
  /** Milliseconds of samples kept. */
  totalMs: number;
  byPackage: [string, number][];
  byFunction: [string, number][];
}

export function summarizeProfile(
  file: string,
  profile: CpuProfile,
  windows: readonly [number, number][],
): Summary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let t = profile.startTime;
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (windows.length > 0 && !windows.some(([a, b]) => t >= a && t <= b)) return;
    const node = nodes.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const ms = delta / 1000;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const where = url
      ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(libs|services)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const fn = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { file, totalMs, byPackage: sorted(byPackage), byFunction: sorted(byFunction) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args[0];
  if (!dir) throw new Error('usage: profile-summary.ts DIR [--results run.json] [--top N]');
  const option = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const top = Number(option('--top') ?? 25);
  let windows: [number, number][] = [];
  const names = new Map<string, string>();
  const resultsFile = option('--results');
  if (resultsFile) {
    const results = JSON.parse(await readFile(resultsFile, 'utf8')) as {
      bulk: Record<string, { windowUs: [number, number] }[]>;
      meta: { processes: Record<string, { name: string; pid: number }[]> };
    };
    windows = Object.values(results.bulk).flatMap((runs) => runs.map((r) => r.windowUs));
    for (const [contender, procs] of Object.entries(results.meta.processes)) {
      for (const p of procs) names.set(String(p.pid), `${contender} ${p.name}`);
    }
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const s = summarizeProfile(file, profile, windows);
    if (s.totalMs < 1) continue;
    const pct = (ms: number): string => `${((ms / s.totalMs) * 100).toFixed(1).padStart(5)}%`;
    const pid = /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1] ?? '';
    const name = names.get(pid) ?? `pid ${pid}`;
    console.log(
      `\n== ${name} (${file}): ${s.totalMs.toFixed(0)} ms of CPU samples${windows.length ? ' during bulk output' : ''}`,
    );
    console.log('-- by package');
    for (const [name, ms] of s.byPackage.slice(0, 15))
      console.log(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${name}`);
    console.log('-- hottest functions (self time)');
    for (const [name, ms] of s.byFunction.slice(0, top))
      console.log(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${name}`);
  }
}

await main();
