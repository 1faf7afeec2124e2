// Event-loop lag: how late a timer fires. The Sallyport processes' is read from their own
// /metrics (service-metrics.ts); a client's own loop is read here the same way: a client too
// busy to read its sockets adds its delay to the lag it measures. Both time a timer that fires
// every 10 ms (prom-client's default precision), so an idle loop reads 10 ms; that interval is
// taken off to give the delay beyond it.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopLag {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
}

export const LOOP_TIMER_INTERVAL_MS = 10;

/** Starts timing this process's event loop; the returned function reads it. */
export function startOwnLoopLag(): () => LoopLag {
  const histogram = monitorEventLoopDelay({ resolution: LOOP_TIMER_INTERVAL_MS });
  histogram.enable();
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_TIMER_INTERVAL_MS);
  return () => {
    histogram.disable();
    return {
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
    };
  };
}
