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
    const now = Date.now();
    // One round trip: every request and every new terminal waits for it, and Prisma would load
    // the user with a second query. The user's columns are listed here; a test compares the
    // result with Prisma's own User, so a column added to users shows up there.
    const [row] = await this.prisma.$queryRaw<LiveLogin[]>`
      SELECT s.id AS "loginSessionId", s.last_seen_at AS "lastSeenAt",
             u.id, u.username, u.display_name AS "displayName", u.password_hash AS "passwordHash",
             u.role, u.auth_source AS "authSource", u.disabled,
             u.created_at AS "createdAt", u.updated_at AS "updatedAt"
      FROM login_sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = ${hashToken(token)} AND s.revoked_at IS NULL
        AND s.expires_at > ${new Date(now)} AND NOT u.disabled`;
    if (!row) return undefined;
    const { loginSessionId, lastSeenAt, ...user } = row;
    if (now - lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
      await this.prisma.loginSession.update({
        where: { id: loginSessionId },
        data: { lastSeenAt: new Date(now) },
      });
    }
    return { user, loginSessionId };
  }

  /** Takes effect on every replica at once: each looks the token up in the database. */
  async revoke(loginSessionId: string): Promise<void> {
    await this.prisma.loginSession.updateMany({
      where: { id: loginSessionId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
  }
}

type LiveLogin = User & { loginSessionId: string; lastSeenAt: Date };
