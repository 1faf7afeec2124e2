import type { Transport } from './transport.js';

/** One limit: at most `limit` events per `windowMs`. */
export interface Limit {
  limit: number;
  windowMs: number;
}

export type LimitVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Rate limits shared by every replica (login failures, connection attempts), as fixed windows
 * on the bus. Keys are logical ("login:user:alice"); the limiter adds its own namespace.
 */
export class RateLimiter {
  constructor(private readonly transport: Transport) {}

  /** Whether another event is allowed, without counting one. */
  async check(key: string, limit: Limit): Promise<LimitVerdict> {
    return this.verdict(
      await this.transport.countInWindow(`rate:${key}`, limit.windowMs, false),
      limit,
      false,
    );
  }

  /** Counts an event and says whether it was within the limit. */
  async hit(key: string, limit: Limit): Promise<LimitVerdict> {
    return this.verdict(
      await this.transport.countInWindow(`rate:${key}`, limit.windowMs, true),
      limit,
      true,
    );
  }

  private verdict(
    window: { count: number; resetInMs: number },
    limit: Limit,
    counted: boolean,
  ): LimitVerdict {
    const allowed = counted ? window.count <= limit.limit : window.count < limit.limit;
    return allowed ? { allowed: true } : { allowed: false, retryAfterMs: window.resetInMs };
  }
}
