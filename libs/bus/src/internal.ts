// Small pieces both transports share, so their behaviour cannot drift apart.
import type { BusLogger } from './logger.js';
import type { ConsumeOptions } from './transport.js';

/** ConsumeOptions.claimIdleMs when the caller gives none. */
export const DEFAULT_CLAIM_IDLE_MS = 15_000;

/** A queue keeps about this many items, delivered or not, as Redis does with XADD MAXLEN ~. */
export const MAX_QUEUE_LENGTH = 10_000;

/**
 * How often a consumer looks for items to claim and re-checks capacity without a wake().
 * Half the idle time, so an orphaned item waits at most 1.5 × claimIdleMs; bounded so tests
 * with tiny idle times do not spin and production does not sleep for minutes.
 */
export function claimCheckIntervalMs(claimIdleMs: number): number {
  return Math.min(5_000, Math.max(25, Math.floor(claimIdleMs / 2)));
}

/** Redis refuses a non-positive expiry; the memory transport refuses it the same way. */
export function leaseTtl(ttlMs: number): number {
  const ms = Math.ceil(ttlMs);
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`lease ttl must be a positive number of ms, got ${ttlMs}`);
  }
  return ms;
}

export function closedError(): Error {
  return new Error('bus transport is closed');
}

/** To the consumer's onError, else the log. A throwing onError must not kill the consumer. */
export function reportConsumerError(
  options: Pick<ConsumeOptions, 'onError' | 'queue' | 'consumer'>,
  logger: BusLogger,
  err: unknown,
): void {
  try {
    if (options.onError) {
      options.onError(err);
      return;
    }
  } catch (onErrorFailure) {
    logger.error({ err: onErrorFailure }, 'bus: onError threw');
  }
  logger.error({ err, queue: options.queue, consumer: options.consumer }, 'bus: consumer failed');
}

/** `operation`, or a rejection once `ms` pass. The timer never outlives the race. */
export async function withTimeout<T>(operation: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
