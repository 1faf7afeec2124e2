import type { Config } from '@sallyport/config';
import { createMemoryTransport, createRedisTransport, type Transport } from '@sallyport/bus';
import type { Logger } from '@sallyport/log';

/** The bus over Redis when REDIS_URL is set; otherwise in memory (embedded mode only). */
export function openBus(config: Config, log: Logger, options: { allowMemory: boolean }): Transport {
  if (config.redisUrl) {
    return createRedisTransport({ url: config.redisUrl, prefix: config.busPrefix, logger: log });
  }
  if (!options.allowMemory)
    throw new Error('REDIS_URL is required: services in distributed mode meet on Redis');
  return createMemoryTransport();
}
