import type { Limit, RateLimiter } from '@sallyport/bus';
import { AppError } from '@sallyport/errors';

const WINDOW_MS = 15 * 60_000;

/**
 * Slows password guessing, across every gateway replica: after too many failed logins for one
 * username, or from one address, further attempts are refused until the window closes, even
 * with the right password.
 */
export class LoginThrottle {
  private readonly perUser: Limit;
  private readonly perIp: Limit;

  constructor(
    private readonly limiter: RateLimiter,
    limits: { failuresPerUser: number; failuresPerIp: number },
  ) {
    this.perUser = { limit: limits.failuresPerUser, windowMs: WINDOW_MS };
    this.perIp = { limit: limits.failuresPerIp, windowMs: WINDOW_MS };
  }

  /** Throws 429 when this username or address has failed too often. */
  async assertAllowed(username: string, ip: string): Promise<void> {
    const verdicts = await Promise.all([
      this.limiter.check(userKey(username), this.perUser),
      this.limiter.check(ipKey(ip), this.perIp),
    ]);
    const refused = verdicts.find((v) => !v.allowed);
    if (refused && !refused.allowed) {
      const minutes = Math.max(1, Math.ceil(refused.retryAfterMs / 60_000));
      throw new AppError(
        'rate_limited',
        `too many failed logins; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`,
        {
          retryAfterSeconds: Math.ceil(refused.retryAfterMs / 1000),
        },
      );
    }
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    await Promise.all([
      this.limiter.hit(userKey(username), this.perUser),
      this.limiter.hit(ipKey(ip), this.perIp),
    ]);
  }
}

const userKey = (username: string) => `login:user:${username.toLowerCase()}`;
const ipKey = (ip: string) => `login:ip:${ip}`;
