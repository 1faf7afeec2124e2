import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/**
 * What a paused shell waits for (the `reason` of the pause metrics): a controlling client's
 * acknowledgements, publishing to the bus, or the headless screen's parsing.
 */
export const PAUSE_REASONS = ['client', 'bus', 'screen'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

/**
 * The session worker's own metrics, on the process's registry.
 * @param compactedScreens how many of its sessions have their screen compacted now
 */
export function createWorkerMetrics(registry: Registry, compactedScreens: () => number) {
  return {
    sessionsOpen: new Gauge({
      name: 'sallyport_worker_sessions_open',
      help: 'Terminal sessions with an open shell on this worker',
      registers: [registry],
    }),
    screensCompacted: new Gauge({
      name: 'sallyport_worker_screens_compacted',
      help: 'Sessions whose headless screen is kept compacted, as the escape sequences that redraw it (no output for SALLYPORT_SCREEN_COMPACT_AFTER_S)',
      registers: [registry],
      collect() {
        this.set(compactedScreens());
      },
    }),
    sessionsEnded: new Counter({
      name: 'sallyport_worker_sessions_ended_total',
      help: 'Sessions ended on this worker, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'sallyport_worker_terminal_bytes_total',
      help: 'Terminal bytes through this worker; in = to the target, out = from the target',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    outputPauses: new Counter({
      name: 'sallyport_worker_output_pauses_total',
      help: 'Times a shell was paused because its output was not taken fast enough, by what it waited for: a controlling client (client), publishing to the bus (bus) or the headless screen (screen)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    outputPausedSeconds: new Counter({
      name: 'sallyport_worker_output_paused_seconds_total',
      help: 'Time shells spent paused, counted as each pause ends, by what they waited for (as sallyport_worker_output_pauses_total)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    headStarts: new Counter({
      name: 'sallyport_worker_head_starts_total',
      help: 'TCP connections to a server started while its row was read, from where its last session went: used, or discarded (the server had moved, gone, or another worker had the session)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    connectSeconds: new Histogram({
      name: 'sallyport_ssh_connect_seconds',
      help: 'Time to connect, verify the host key and authenticate to a target',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
