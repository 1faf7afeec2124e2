import Router from '@koa/router';
import { z } from 'zod';
import { verifyAuditChain, type AuditEvent, type PrismaClient } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import type { GatewayContext, GatewayState } from '../http/context.js';
import { requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';

const query = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  action: z.string().max(100).optional(),
  sessionId: z.uuid().optional(),
  actorId: z.uuid().optional(),
});

const publicEvent = (e: AuditEvent) => ({
  seq: e.seq.toString(),
  at: e.at,
  actorId: e.actorId,
  actorName: e.actorName,
  action: e.action,
  targetType: e.targetType,
  targetId: e.targetId,
  serverId: e.serverId,
  sessionId: e.sessionId,
  ip: e.ip,
  details: e.details,
  hash: e.hash,
});

function requireAuditor(ctx: GatewayContext): void {
  const role = ctx.state.user!.role;
  if (role !== 'admin' && role !== 'auditor')
    throw new AppError('forbidden', 'only admins and auditors may read the audit log');
}

/** The audit log, read-only (it cannot be changed through the API), for admins and auditors. */
export function auditRoutes(deps: { prisma: PrismaClient }): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/api/audit' });

  router.get('/', requireUser, async (ctx) => {
    requireAuditor(ctx);
    const { limit, action, sessionId, actorId } = validate(query, ctx.query);
    const events = await deps.prisma.auditEvent.findMany({
      where: {
        ...(action ? { action } : {}),
        ...(sessionId ? { sessionId } : {}),
        ...(actorId ? { actorId } : {}),
      },
      orderBy: { seq: 'desc' },
      take: limit,
    });
    ctx.body = { events: events.map(publicEvent) };
  });

  router.get('/verify', requireUser, async (ctx) => {
    requireAuditor(ctx);
    const verdict = await verifyAuditChain(deps.prisma);
    ctx.body = verdict.ok ? verdict : { ok: false, brokenAtSeq: verdict.brokenAtSeq.toString() };
  });

  return router;
}
