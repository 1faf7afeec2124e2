import Router from '@koa/router';
import { z } from 'zod';
import type { SessionBus } from '@sallyport/bus';
import type { PrismaClient } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { auditRequest } from '../http/audit.js';
import type { GatewayState } from '../http/context.js';
import { isUuid } from '../http/ids.js';
import { requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { ownedSession } from '../sessions/owned.js';
import { revokeAccess } from '../sessions/revoke.js';

const inviteSchema = z
  .object({ username: z.string().min(1).max(64), mode: z.enum(['view', 'control']) })
  .strict();

/** The owner invites a named user; the invitee sees it, and accepts or declines. */
export function inviteRoutes(deps: {
  prisma: PrismaClient;
  bus: SessionBus;
}): Router<GatewayState> {
  const { prisma } = deps;
  const router = new Router<GatewayState>({ prefix: '/api' });

  const findInvite = async (id: string) => {
    const invite = isUuid(id)
      ? await prisma.sessionInvite.findUnique({ where: { id }, include: { session: true } })
      : null;
    if (!invite) throw new AppError('not_found', 'invitation not found');
    return invite;
  };

  router.post('/sessions/:id/invites', requireUser, async (ctx) => {
    const session = await ownedSession(prisma, ctx.params.id ?? '', ctx.state.user!, {
      live: true,
    });
    const { username, mode } = validate(inviteSchema, ctx.request.body);
    const invitee = await prisma.user.findUnique({ where: { username } });
    if (!invitee || invitee.disabled)
      throw new AppError('not_found', `no user named "${username}"`, { field: 'username' });
    if (invitee.id === session.userId)
      throw new AppError('validation_failed', 'username: the owner is already in the session', {
        field: 'username',
      });
    const invite = await prisma.sessionInvite.create({
      data: { sessionId: session.id, invitedById: ctx.state.user!.id, userId: invitee.id, mode },
    });
    await auditRequest(prisma, ctx, 'invite.create', {
      targetType: 'user',
      targetId: invitee.id,
      serverId: session.serverId,
      sessionId: session.id,
      details: { username, mode },
    });
    ctx.status = 201;
    ctx.body = {
      invite: { id: invite.id, sessionId: session.id, username, mode, status: invite.status },
    };
  });

  router.get('/invites', requireUser, async (ctx) => {
    const invites = await prisma.sessionInvite.findMany({
      where: {
        userId: ctx.state.user!.id,
        status: 'pending',
        session: { status: { not: 'ended' } },
      },
      include: { invitedBy: true, session: { include: { server: true } } },
      orderBy: { createdAt: 'desc' },
    });
    ctx.body = {
      invites: invites.map((i) => ({
        id: i.id,
        sessionId: i.sessionId,
        mode: i.mode,
        from: i.invitedBy.username,
        serverName: i.session.server?.name ?? null,
        createdAt: i.createdAt,
      })),
    };
  });

  router.post('/invites/:id/:answer', requireUser, async (ctx) => {
    const answer = ctx.params.answer;
    if (answer !== 'accept' && answer !== 'decline')
      throw new AppError('not_found', `no such endpoint: ${ctx.path}`);
    const invite = await findInvite(ctx.params.id ?? '');
    const user = ctx.state.user!;
    if (invite.userId !== user.id) throw new AppError('not_found', 'invitation not found');
    if (invite.status !== 'pending')
      throw new AppError('gone', `this invitation was already ${invite.status}`);
    if (invite.session.status === 'ended') throw new AppError('gone', 'the session has ended');
    const accepted = answer === 'accept';
    await prisma.sessionInvite.update({
      where: { id: invite.id },
      data: { status: accepted ? 'accepted' : 'declined', respondedAt: new Date() },
    });
    if (accepted) {
      const data = {
        role: invite.mode,
        via: `invite:${invite.id}`,
        revokedAt: null,
        joinedAt: new Date(),
      };
      await prisma.sessionParticipant.upsert({
        where: { sessionId_userId: { sessionId: invite.sessionId, userId: user.id } },
        create: { sessionId: invite.sessionId, userId: user.id, ...data },
        update: data,
      });
    }
    await auditRequest(prisma, ctx, accepted ? 'invite.accept' : 'invite.decline', {
      targetType: 'invite',
      targetId: invite.id,
      serverId: invite.session.serverId,
      sessionId: invite.sessionId,
    });
    ctx.body = accepted ? { sessionId: invite.sessionId, role: invite.mode } : { declined: true };
  });

  router.delete('/invites/:id', requireUser, async (ctx) => {
    const invite = await findInvite(ctx.params.id ?? '');
    await ownedSession(prisma, invite.sessionId, ctx.state.user!, { live: false });
    await prisma.sessionInvite.update({
      where: { id: invite.id },
      data: { status: 'revoked', respondedAt: new Date() },
    });
    await revokeAccess(
      deps,
      invite.sessionId,
      `invite:${invite.id}`,
      'your invitation was withdrawn',
    );
    await auditRequest(prisma, ctx, 'invite.revoke', {
      targetType: 'invite',
      targetId: invite.id,
      sessionId: invite.sessionId,
    });
    ctx.status = 204;
  });

  return router;
}
