// What the Sallyport processes' own /metrics say about a scenario: one scrape before it, one
// after, once each, since a scrape resets the event-loop histogram.
//
// - Event-loop lag: prom-client keeps a perf_hooks event-loop-delay histogram that it resets on
//   every scrape, so the scrape after the scenario gives the lag during it (see event-loop.ts
//   for the timer interval taken off).
// - Full garbage collections (V8's mark-compacts): prom-client's `nodejs_gc_duration_seconds`
//   only counts up, so the two scrapes' difference is what happened in between. A process that
//   streams bytes can fall into starting one every few megabytes (docs/performance.md), which
//   shows in its CPU per MB. prom-client records only the first entry of each batch that
//   perf_hooks delivers, so a full collection that ends in the same turn as another collection
//   may not be counted: a floor, not a tally.
// - Time the worker kept the shell paused (`sallyport_worker_output_paused_seconds_total`), by
//   what it waited for: a client's acknowledgements, the bus or its headless screen. Each pause
//   is counted as it ends, so a pause still under way at the second scrape is not in it.
import { PAUSE_REASONS, type PauseReason } from '../../services/session-worker/src/metrics.js';
import { metricValue } from '../../tests/support/metrics.js';
import { LOOP_TIMER_INTERVAL_MS, type LoopLag } from './event-loop.js';

export interface FullCollections {
  count: number;
  pauseMs: number;
}

export type ShellPausedMs = Partial<Record<PauseReason, number>>;

export interface ServiceMetrics {
  loopLag: Record<string, LoopLag>;
  fullCollections: Record<string, FullCollections>;
  /** By process: the milliseconds its shells spent paused, by reason (workers only). */
  shellPausedMs: Record<string, ShellPausedMs>;
}

interface Scrape {
  loopLag: LoopLag;
  fullCollections: FullCollections;
  shellPausedMs: ShellPausedMs;
}

async function scrape(url: string): Promise<Scrape | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return undefined;
    const text = await res.text();
    const read = (name: string, label?: string) => metricValue(text, name, label);
    const lagMs = (name: string): number =>
      Math.max(0, (read(name) ?? NaN) * 1000 - LOOP_TIMER_INTERVAL_MS);
    // prom-client prints no series for a kind of collection that has not happened yet.
    const major = (name: string): number => read(name, 'kind="major"') ?? 0;
    const shellPausedMs: ShellPausedMs = {};
    for (const reason of PAUSE_REASONS) {
      const seconds = read('sallyport_worker_output_paused_seconds_total', `reason="${reason}"`);
      if (seconds !== undefined) shellPausedMs[reason] = seconds * 1000;
    }
    return {
      shellPausedMs,
      loopLag: {
        p50: lagMs('nodejs_eventloop_lag_p50_seconds'),
        p99: lagMs('nodejs_eventloop_lag_p99_seconds'),
        max: lagMs('nodejs_eventloop_lag_max_seconds'),
      },
      fullCollections: {
        count: major('nodejs_gc_duration_seconds_count'),
        pauseMs: major('nodejs_gc_duration_seconds_sum') * 1000,
      },
    };
  } catch {
    return undefined; // supporting evidence; a failed scrape must not fail the run
  }
}

/** Scrapes every process now; the returned function scrapes them again and compares. */
export async function startServiceMetrics(
  endpoints: readonly { name: string; url: string }[],
): Promise<() => Promise<ServiceMetrics>> {
  const before = await Promise.all(endpoints.map((e) => scrape(e.url)));
  return async () => {
    const after = await Promise.all(endpoints.map((e) => scrape(e.url)));
    const metrics: ServiceMetrics = { loopLag: {}, fullCollections: {}, shellPausedMs: {} };
    endpoints.forEach(({ name }, i) => {
      const [first, last] = [before[i], after[i]];
      if (!last) return;
      metrics.loopLag[name] = last.loopLag;
      // A count that went down means the process restarted in between: nothing to compare.
      if (!first || last.fullCollections.count < first.fullCollections.count) return;
      metrics.fullCollections[name] = {
        count: last.fullCollections.count - first.fullCollections.count,
        pauseMs: last.fullCollections.pauseMs - first.fullCollections.pauseMs,
      };
      const paused: ShellPausedMs = {};
      for (const reason of PAUSE_REASONS) {
        const [from, to] = [first.shellPausedMs[reason] ?? 0, last.shellPausedMs[reason]];
        if (to !== undefined) paused[reason] = to - from;
      }
      if (Object.keys(paused).length > 0) metrics.shellPausedMs[name] = paused;
    });
    return metrics;
  };
}
