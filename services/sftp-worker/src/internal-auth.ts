import type { Middleware } from 'koa';
import { AppError } from '@sallyport/errors';
import type { Logger } from '@sallyport/log';
import { verifyRequest, type InternalIdentity } from '@sallyport/sftp-protocol';

/** What middleware puts on `ctx.state` for the routes. */
export interface WorkerState {
  log: Logger;
  identity: InternalIdentity;
}

/**
 * Serves only requests the gateway signed. The worker has no logins of its own: the signature
 * is what says a gateway authenticated this user and allowed this request.
 */
export function requireGatewaySignature(
  secret: string,
  now: () => number = Date.now,
): Middleware<WorkerState> {
  return async (ctx, next) => {
    const verdict = verifyRequest(
      secret,
      { method: ctx.method, path: ctx.url, header: (name) => ctx.get(name) || undefined },
      now(),
    );
    if (!verdict.ok) throw new AppError('unauthenticated', verdict.reason);
    ctx.state.identity = verdict.identity;
    await next();
  };
}
