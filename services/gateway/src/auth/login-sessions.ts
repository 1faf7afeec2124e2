import { hashToken, randomToken } from '@sallyport/crypto';
import type { PrismaClient, User } from '@sallyport/db';

export const SESSION_COOKIE = 'sp_session';

// lastSeenAt is refreshed at most this often, so reads do not each cost a write.
const TOUCH_INTERVAL_MS = 60_000;

/** Server-side login sessions: the cookie holds a random token, the database only its hash. */
export class LoginSessions {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly lifetimeMs: number,
  ) {}

  async create(
    userId: string,
    meta: { ip: string; userAgent: string | undefined },
  ): Promise<{ token: string; expiresAt: Date }> {
    const token = randomToken();
    const expiresAt = new Date(Date.now() + this.lifetimeMs);
    await this.prisma.loginSession.create({
      data: {
        tokenHash: hashToken(token),
        userId,
        expiresAt,
        ip: meta.ip,
        userAgent: meta.userAgent?.slice(0, 500) ?? null,
      },
    });
    return { token, expiresAt };
  }

  /** The user behind a cookie token, if the session is live and the user enabled. */
  async resolve(
    token: string | undefined,
  ): Promise<{ user: User; loginSessionId: string } | undefined> {
    if (!token || token.length > 200) return undefined;
    const row = await this.prisma.loginSession.findUnique({
      where: { tokenHash: hashToken(token) },
      include: { user: true },
    });
    const now = Date.now();
    if (!row || row.revokedAt || row.expiresAt.getTime() <= now || row.user.disabled)
      return undefined;
    if (now - row.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
      await this.prisma.loginSession.update({
        where: { id: row.id },
        data: { lastSeenAt: new Date(now) },
      });
    }
    return { user: row.user, loginSessionId: row.id };
  }

  /** Takes effect on every replica at once: each looks the token up in the database. */
  async revoke(loginSessionId: string): Promise<void> {
    await this.prisma.loginSession.updateMany({
      where: { id: loginSessionId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
  }
}
