import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type SftpMetrics = ReturnType<typeof createSftpMetrics>;

/** The sftp-worker's own metrics, on the process's registry. */
export function createSftpMetrics(registry: Registry) {
  return {
    poolSize: new Gauge({
      name: 'sallyport_sftp_pool_connections',
      help: 'SFTP connections pooled on this sftp-worker (per user and server)',
      registers: [registry],
    }),
    transfersActive: new Gauge({
      name: 'sallyport_sftp_transfers_active',
      help: 'Uploads and downloads running on this sftp-worker',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    transfers: new Counter({
      name: 'sallyport_sftp_transfers_total',
      help: 'Finished uploads and downloads, by direction and outcome',
      labelNames: ['direction', 'outcome'] as const,
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'sallyport_sftp_bytes_total',
      help: 'File bytes moved; upload = to targets, download = from targets',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    operations: new Counter({
      name: 'sallyport_sftp_operations_total',
      help: 'File API requests, by operation and outcome (ok, denied, failed)',
      labelNames: ['operation', 'outcome'] as const,
      registers: [registry],
    }),
    connectSeconds: new Histogram({
      name: 'sallyport_sftp_connect_seconds',
      help: 'Time to connect, verify the host key and authenticate for SFTP',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
