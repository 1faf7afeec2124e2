import type { Config } from '@sallyport/config';
import { createBullmqJobQueue, createMemoryJobQueue, type JobQueue } from '@sallyport/jobs';
import type { Logger } from '@sallyport/log';
import type { Registry } from '@sallyport/observability';
import { Counter } from 'prom-client';

/**
 * The job queue beside the bus: BullMQ on Redis when REDIS_URL is set; otherwise in memory
 * (embedded mode only). Jobs that fail for good are logged by the queue and counted here.
 */
export function openJobQueue(
  config: Config,
  log: Logger,
  registry: Registry,
  options: { allowMemory: boolean },
): JobQueue {
  const failed = new Counter({
    name: 'sallyport_jobs_failed_total',
    help: 'Jobs that failed on their last attempt (kept as failed), by queue',
    labelNames: ['queue'] as const,
    registers: [registry],
  });
  const common = {
    logger: log,
    onFailed: (job: { queue: string }) => failed.inc({ queue: job.queue }),
  };
  if (config.redisUrl) {
    return createBullmqJobQueue({ url: config.redisUrl, prefix: config.busPrefix, ...common });
  }
  if (!options.allowMemory)
    throw new Error(
      'REDIS_URL is required: services in distributed mode share their jobs on Redis',
    );
  return createMemoryJobQueue(common);
}
