import { Counter, Gauge, type Registry } from 'prom-client';

export type RecorderMetrics = ReturnType<typeof createRecorderMetrics>;

/** The recorder's own metrics, on the process's registry. */
export function createRecorderMetrics(registry: Registry) {
  return {
    active: new Gauge({
      name: 'sallyport_recorder_sessions_recording',
      help: 'Sessions this recorder is recording now',
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'sallyport_recorder_bytes_written_total',
      help: 'Encrypted recording bytes written to the store',
      registers: [registry],
    }),
    gaps: new Counter({
      name: 'sallyport_recorder_gaps_total',
      help: 'Stretches of output a recording could not keep, by cause (store: the store failed; bus: events never arrived)',
      labelNames: ['cause'] as const,
      registers: [registry],
    }),
    storeFailures: new Counter({
      name: 'sallyport_recorder_store_failures_total',
      help: 'Failed writes to the recording store',
      registers: [registry],
    }),
    finalised: new Counter({
      name: 'sallyport_recorder_recordings_finalised_total',
      help: 'Recordings finalised, by status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  };
}
