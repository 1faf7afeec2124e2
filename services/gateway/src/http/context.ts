import type { ParameterizedContext } from 'koa';
import type { User } from '@sallyport/db';
import type { Logger } from '@sallyport/log';

/** What middleware puts on `ctx.state` for the handlers after it. */
export interface GatewayState {
  reqId: string;
  log: Logger;
  user?: User;
  loginSessionId?: string;
}

export type GatewayContext = ParameterizedContext<GatewayState>;

/** The authenticated user; only call behind `requireUser`. */
export function currentUser(ctx: GatewayContext): User {
  if (!ctx.state.user) throw new Error('currentUser called on an unauthenticated request');
  return ctx.state.user;
}
