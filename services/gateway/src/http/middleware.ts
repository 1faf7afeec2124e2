import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { AppError, toClientError } from '@sallyport/errors';
import type { Logger } from '@sallyport/log';
import { SESSION_COOKIE, type LoginSessions } from '../auth/login-sessions.js';
import type { GatewayState } from './context.js';

type Mw = Middleware<GatewayState>;

/** A request id and a child logger per request; one log line per request. */
export function requestContext(log: Logger): Mw {
  return async (ctx, next) => {
    const reqId = randomUUID();
    ctx.state.reqId = reqId;
    ctx.state.log = log.child({ reqId });
    ctx.set('X-Request-Id', reqId);
    const started = performance.now();
    try {
      await next();
    } finally {
      if (ctx.path !== '/healthz' && ctx.path !== '/readyz' && ctx.path !== '/metrics') {
        ctx.state.log.info(
          {
            method: ctx.method,
            path: ctx.path,
            status: ctx.status,
            ms: Math.round(performance.now() - started),
            userId: ctx.state.user?.id,
          },
          'request',
        );
      }
    }
  };
}

/** Turns thrown errors into the catalogue's client-safe JSON; logs the rest with the request id. */
export function errorHandler(): Mw {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.path.startsWith('/api/')) {
        throw new AppError('not_found', `no such endpoint: ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const bodyParserStatus = (err as { status?: number; expose?: boolean }).status;
      const mapped =
        err instanceof AppError
          ? err
          : bodyParserStatus === 415
            ? new AppError(
                'bad_request',
                'request body must be JSON (Content-Type: application/json)',
              )
            : bodyParserStatus === 413
              ? new AppError('payload_too_large', 'request body is too large')
              : bodyParserStatus === 400
                ? new AppError('bad_request', 'request body is not valid JSON')
                : err;
      const { status, body } = toClientError(mapped);
      if (status >= 500) ctx.state.log.error({ err }, 'request failed');
      ctx.status = status;
      ctx.body = body;
    }
  };
}

/** Headers that keep the UI from being framed, sniffed or leaking its URL. */
export function securityHeaders(): Mw {
  return async (ctx, next) => {
    await next();
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for state-changing requests: a browser always sends Origin on them, and it must
 * be ours. Together with SameSite=Strict cookies and JSON-only bodies (which a cross-site form
 * cannot send), no other site can act with a user's session.
 */
export function originCheck(allowedOrigins: readonly string[]): Mw {
  return async (ctx, next) => {
    const origin = ctx.get('Origin');
    if (!SAFE_METHODS.has(ctx.method) && origin && !allowedOrigins.includes(origin)) {
      throw new AppError('origin_rejected', `requests from ${origin} are not allowed`);
    }
    await next();
  };
}

/** Puts the user on ctx.state when the request carries a live login session cookie. */
export function authenticate(sessions: LoginSessions): Mw {
  return async (ctx, next) => {
    const resolved = await sessions.resolve(ctx.cookies.get(SESSION_COOKIE));
    if (resolved) {
      ctx.state.user = resolved.user;
      ctx.state.loginSessionId = resolved.loginSessionId;
      ctx.state.log = ctx.state.log.child({ userId: resolved.user.id });
    }
    await next();
  };
}

export const requireUser: Mw = async (ctx, next) => {
  if (!ctx.state.user) throw new AppError('unauthenticated', 'log in first');
  await next();
};

export const requireAdmin: Mw = async (ctx, next) => {
  if (!ctx.state.user) throw new AppError('unauthenticated', 'log in first');
  if (ctx.state.user.role !== 'admin') throw new AppError('forbidden', 'only an admin may do this');
  await next();
};
