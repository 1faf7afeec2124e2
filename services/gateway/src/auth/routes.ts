import Router from '@koa/router';
import { z } from 'zod';
import type { PrismaClient, User } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { auditRequest } from '../http/audit.js';
import type { GatewayContext, GatewayState } from '../http/context.js';
import { requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { SESSION_COOKIE, type LoginSessions } from './login-sessions.js';
import { checkPassword } from './passwords.js';
import type { LoginThrottle } from './login-throttle.js';
import type { Setup } from './setup.js';
import type { GatewayMetrics } from '../metrics.js';

const loginSchema = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1024),
});

const setupSchema = z.object({
  token: z.string().min(1).max(200),
  username: z.string().min(1).max(64),
  password: z.string().max(1024),
});

export const publicUser = (u: User) => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
});

export interface AuthRouteDeps {
  prisma: PrismaClient;
  sessions: LoginSessions;
  setup: Setup;
  throttle: LoginThrottle;
  metrics: GatewayMetrics;
  secureCookies: boolean;
}

/** Login, logout, who-am-I, and the one-time first-admin setup. */
export function authRoutes(deps: AuthRouteDeps): Router<GatewayState> {
  const { prisma, sessions } = deps;
  const router = new Router<GatewayState>({ prefix: '/api' });

  const startSession = async (ctx: GatewayContext, user: User) => {
    const { token, expiresAt } = await sessions.create(user.id, {
      ip: ctx.ip,
      userAgent: ctx.get('User-Agent') || undefined,
    });
    // Koa refuses Secure cookies on a plain connection unless told TLS ends at a proxy.
    ctx.cookies.secure = deps.secureCookies || ctx.secure;
    ctx.cookies.set(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: deps.secureCookies,
      expires: expiresAt,
      overwrite: true,
    });
  };

  router.post('/auth/login', async (ctx) => {
    const { username, password } = validate(loginSchema, ctx.request.body);
    try {
      await deps.throttle.assertAllowed(username, ctx.ip);
    } catch (err) {
      deps.metrics.logins.inc({ outcome: 'throttled' });
      await auditRequest(prisma, ctx, 'auth.login_throttled', {
        actorName: username.slice(0, 64),
        details: { username: username.slice(0, 64) },
      });
      const retryAfter = (err as AppError).details?.retryAfterSeconds;
      if (typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
      throw err;
    }
    const user = await prisma.user.findUnique({ where: { username } });
    const ok = await checkPassword(password, user?.passwordHash);
    if (!ok || !user || user.disabled) {
      await deps.throttle.recordFailure(username, ctx.ip);
      deps.metrics.logins.inc({ outcome: 'failure' });
      await auditRequest(prisma, ctx, 'auth.login_failed', {
        actorName: username.slice(0, 64),
        details: { username: username.slice(0, 64) },
      });
      // One message for unknown users, wrong passwords and disabled accounts alike.
      throw new AppError('invalid_credentials', 'Invalid username or password');
    }
    await startSession(ctx, user);
    ctx.state.user = user;
    deps.metrics.logins.inc({ outcome: 'success' });
    await auditRequest(prisma, ctx, 'auth.login', { targetType: 'user', targetId: user.id });
    ctx.body = { user: publicUser(user) };
  });

  router.post('/auth/logout', requireUser, async (ctx) => {
    await sessions.revoke(ctx.state.loginSessionId!);
    ctx.cookies.set(SESSION_COOKIE, null, { httpOnly: true, sameSite: 'strict' });
    await auditRequest(prisma, ctx, 'auth.logout', {
      targetType: 'user',
      targetId: ctx.state.user!.id,
    });
    ctx.status = 204;
  });

  router.get('/auth/me', requireUser, (ctx) => {
    ctx.body = { user: publicUser(ctx.state.user!) };
  });

  router.get('/setup', async (ctx) => {
    ctx.body = { needed: await deps.setup.isNeeded() };
  });

  router.post('/setup', async (ctx) => {
    const input = validate(setupSchema, ctx.request.body);
    const user = await deps.setup.createFirstAdmin(input.token, input.username, input.password);
    await startSession(ctx, user);
    ctx.state.user = user;
    await auditRequest(prisma, ctx, 'setup.first_admin', { targetType: 'user', targetId: user.id });
    ctx.status = 201;
    ctx.body = { user: publicUser(user) };
  });

  return router;
}
