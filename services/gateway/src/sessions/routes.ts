import Router from '@koa/router';
import { z } from 'zod';
import type { SessionBus } from '@sallyport/bus';
import type { PrismaClient, Server, TerminalSession } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import type { GatewayState } from '../http/context.js';
import { requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { auditRequest } from '../http/audit.js';
import { ownedSession } from './owned.js';
import { isUuid } from '../http/ids.js';

const listQuery = z.object({
  status: z.enum(['pending', 'active', 'ended']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  scope: z.enum(['mine', 'all']).default('mine'),
});

const publicSession = (s: TerminalSession & { server: Server | null }) => ({
  id: s.id,
  userId: s.userId,
  serverId: s.serverId,
  serverName: s.server?.name ?? null,
  status: s.status,
  workerId: s.workerId,
  cols: s.cols,
  rows: s.rows,
  clientIp: s.clientIp,
  createdAt: s.createdAt,
  connectedAt: s.connectedAt,
  endedAt: s.endedAt,
  exitCode: s.exitCode,
  exitSignal: s.exitSignal,
  endReason: s.endReason,
  endMessage: s.endMessage,
  bytesIn: Number(s.bytesIn),
  bytesOut: Number(s.bytesOut),
});

/** Terminal session history: users see their own sessions, admins everyone's. */
export function sessionRoutes(deps: {
  prisma: PrismaClient;
  bus: SessionBus;
}): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/api/sessions' });

  router.get('/', requireUser, async (ctx) => {
    const user = ctx.state.user!;
    const { status, limit, scope } = validate(listQuery, ctx.query);
    if (scope === 'all' && user.role !== 'admin')
      throw new AppError('forbidden', 'only an admin may list every session');
    // Your own sessions and those you were let into; `scope=all` (admins) lists everyone's.
    const visible =
      scope === 'all'
        ? {}
        : {
            OR: [
              { userId: user.id },
              { participants: { some: { userId: user.id, revokedAt: null } } },
            ],
          };
    const sessions = await deps.prisma.terminalSession.findMany({
      where: { ...visible, ...(status ? { status } : {}) },
      include: { server: true, participants: { where: { userId: user.id, revokedAt: null } } },
      orderBy: { createdAt: 'desc' },
      take: limit,
    });
    ctx.body = {
      sessions: sessions.map((s) => ({
        ...publicSession(s),
        /** What you are in it: owner, control, view, or null (an admin looking at all). */
        role: s.userId === user.id ? 'owner' : (s.participants[0]?.role ?? null),
      })),
    };
  });

  router.get('/:id', requireUser, async (ctx) => {
    const user = ctx.state.user!;
    const id = ctx.params.id ?? '';
    const session = isUuid(id)
      ? await deps.prisma.terminalSession.findUnique({ where: { id }, include: { server: true } })
      : null;
    // Someone else's session is as missing as one that does not exist.
    if (!session || (session.userId !== user.id && user.role !== 'admin'))
      throw new AppError('not_found', 'session not found');
    ctx.body = { session: publicSession(session) };
  });

  router.delete('/:id', requireUser, async (ctx) => {
    const session = await ownedSession(deps.prisma, ctx.params.id ?? '', ctx.state.user!, {
      live: true,
    });
    const [owner] = await deps.bus.owners([session.id]);
    if (owner) {
      // The worker checks that a close comes from the owner; an admin ends it on the owner's behalf.
      await deps.bus.sendInput(session.id, { type: 'close', userId: session.userId });
    } else {
      await deps.prisma.terminalSession.updateMany({
        where: { id: session.id, endedAt: null },
        data: {
          status: 'ended',
          endedAt: new Date(),
          endReason: 'closed',
          endMessage: 'ended while no worker held it',
        },
      });
    }
    await auditRequest(deps.prisma, ctx, 'session.close', {
      targetType: 'session',
      targetId: session.id,
      serverId: session.serverId,
      sessionId: session.id,
    });
    ctx.status = 202;
  });

  return router;
}
