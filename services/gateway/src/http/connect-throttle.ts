import type { RateLimiter } from '@sallyport/bus';

/** Terminal opens and connection tests per user per minute, across every gateway replica. */
export class ConnectThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly perMinute: number,
  ) {}

  /** Counts an attempt; false when the user is over the limit. */
  async allow(userId: string): Promise<boolean> {
    const verdict = await this.limiter.hit(`connect:user:${userId}`, {
      limit: this.perMinute,
      windowMs: 60_000,
    });
    return verdict.allowed;
  }
}
