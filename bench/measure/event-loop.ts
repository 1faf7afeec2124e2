// Event-loop lag of the Sallyport processes during a scenario, read from their own /metrics.
// prom-client's default metrics keep a perf_hooks event-loop-delay histogram that is reset on
// every scrape, so a scrape before the scenario and one after give the lag during it. The
// histogram times a timer that fires every 10 ms (prom-client's default precision), so an idle
// loop reads 10 ms; that interval is subtracted to give the delay beyond it. A client's own
// loop is read the same way: a client too busy to read its sockets adds its delay to the lag
// it measures.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopLag {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
}

const SAMPLING_INTERVAL_MS = 10;

const METRICS = {
  p50: 'nodejs_eventloop_lag_p50_seconds',
  p99: 'nodejs_eventloop_lag_p99_seconds',
  max: 'nodejs_eventloop_lag_max_seconds',
} as const;

async function scrape(url: string): Promise<LoopLag | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return undefined;
    const text = await res.text();
    const read = (name: string): number => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      return match ? Math.max(0, Number(match[1]) * 1000 - SAMPLING_INTERVAL_MS) : NaN;
    };
    return { p50: read(METRICS.p50), p99: read(METRICS.p99), max: read(METRICS.max) };
  } catch {
    return undefined; // lag is supporting evidence; a failed scrape must not fail the run
  }
}

/** Resets the histograms now; the returned function reads the lag since. */
export async function startLoopLag(
  endpoints: readonly { name: string; url: string }[],
): Promise<() => Promise<Record<string, LoopLag>>> {
  await Promise.all(endpoints.map((e) => scrape(e.url)));
  return async () => {
    const result: Record<string, LoopLag> = {};
    const lags = await Promise.all(endpoints.map((e) => scrape(e.url)));
    endpoints.forEach((e, i) => {
      const lag = lags[i];
      if (lag) result[e.name] = lag;
    });
    return result;
  };
}

/** Starts timing this process's event loop; the returned function reads it. */
export function startOwnLoopLag(): () => LoopLag {
  const histogram = monitorEventLoopDelay({ resolution: SAMPLING_INTERVAL_MS });
  histogram.enable();
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - SAMPLING_INTERVAL_MS);
  return () => {
    histogram.disable();
    return {
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
    };
  };
}
