import { appendAuditEvent, type PrismaClient } from '@sallyport/db';
import type { GatewayContext } from './context.js';

export interface AuditFields {
  targetType?: string;
  targetId?: string;
  serverId?: string | null;
  sessionId?: string | null;
  details?: Record<string, unknown>;
  /** For events with no logged-in actor (a failed login names who was tried). */
  actorName?: string;
}

/** Records who did what, from where, for a request. */
export function auditRequest(
  prisma: PrismaClient,
  ctx: GatewayContext,
  action: string,
  fields: AuditFields = {},
): Promise<unknown> {
  const { actorName, ...rest } = fields;
  return appendAuditEvent(prisma, {
    actorId: ctx.state.user?.id ?? null,
    actorName: ctx.state.user?.username ?? actorName ?? 'anonymous',
    action,
    ip: ctx.ip,
    ...rest,
  });
}
