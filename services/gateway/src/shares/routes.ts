import Router from '@koa/router';
import { z } from 'zod';
import type { SessionBus } from '@sallyport/bus';
import { hashToken, randomToken } from '@sallyport/crypto';
import type { PrismaClient, Share } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { auditRequest } from '../http/audit.js';
import type { GatewayState } from '../http/context.js';
import { isUuid } from '../http/ids.js';
import { requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { ownedSession } from '../sessions/owned.js';
import { revokeAccess } from '../sessions/revoke.js';

const createSchema = z
  .object({
    mode: z.enum(['view', 'control']),
    expiresInMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
    maxUses: z.number().int().min(1).max(1000).optional(),
  })
  .strict();
const redeemSchema = z.object({ token: z.string().min(1).max(200) }).strict();

// One answer for every link that cannot be used, so a link's state is not revealed to guessers.
const UNUSABLE = 'this share link is invalid, expired, used up or revoked';

const publicShare = (s: Share) => ({
  id: s.id,
  sessionId: s.sessionId,
  mode: s.mode,
  expiresAt: s.expiresAt,
  maxUses: s.maxUses,
  uses: s.uses,
  revokedAt: s.revokedAt,
  createdAt: s.createdAt,
});

/** Share links: the owner creates, lists and revokes them; anyone logged in redeems one. */
export function shareRoutes(deps: {
  prisma: PrismaClient;
  bus: SessionBus;
  publicUrl: string;
}): Router<GatewayState> {
  const { prisma } = deps;
  const router = new Router<GatewayState>({ prefix: '/api' });

  router.post('/sessions/:id/shares', requireUser, async (ctx) => {
    const session = await ownedSession(prisma, ctx.params.id ?? '', ctx.state.user!, {
      live: true,
    });
    const input = validate(createSchema, ctx.request.body ?? {});
    const token = randomToken();
    const share = await prisma.share.create({
      data: {
        sessionId: session.id,
        createdById: ctx.state.user!.id,
        mode: input.mode,
        tokenHash: hashToken(token),
        expiresAt: new Date(Date.now() + input.expiresInMinutes * 60_000),
        maxUses: input.maxUses ?? null,
      },
    });
    await auditRequest(prisma, ctx, 'share.create', {
      targetType: 'share',
      targetId: share.id,
      serverId: session.serverId,
      sessionId: session.id,
      details: {
        mode: share.mode,
        expiresAt: share.expiresAt.toISOString(),
        maxUses: share.maxUses,
      },
    });
    ctx.status = 201;
    // The token travels in the fragment, which browsers never send to servers or proxies.
    ctx.body = { share: publicShare(share), url: `${deps.publicUrl}/join#${token}` };
  });

  router.get('/sessions/:id/shares', requireUser, async (ctx) => {
    const session = await ownedSession(prisma, ctx.params.id ?? '', ctx.state.user!, {
      live: false,
    });
    const shares = await prisma.share.findMany({
      where: { sessionId: session.id },
      orderBy: { createdAt: 'desc' },
    });
    ctx.body = { shares: shares.map(publicShare) };
  });

  router.delete('/shares/:id', requireUser, async (ctx) => {
    const id = ctx.params.id ?? '';
    const share = isUuid(id) ? await prisma.share.findUnique({ where: { id } }) : null;
    if (!share) throw new AppError('not_found', 'share not found');
    await ownedSession(prisma, share.sessionId, ctx.state.user!, { live: false });
    await prisma.share.updateMany({
      where: { id: share.id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    await revokeAccess(
      deps,
      share.sessionId,
      `share:${share.id}`,
      'the share you joined through was revoked',
    );
    await auditRequest(prisma, ctx, 'share.revoke', {
      targetType: 'share',
      targetId: share.id,
      sessionId: share.sessionId,
    });
    ctx.status = 204;
  });

  router.post('/shares/redeem', requireUser, async (ctx) => {
    const user = ctx.state.user!;
    const { token } = validate(redeemSchema, ctx.request.body);
    const share = await prisma.share.findUnique({
      where: { tokenHash: hashToken(token) },
      include: { session: true },
    });
    if (!share) throw new AppError('gone', UNUSABLE);
    if (share.session.status === 'ended')
      throw new AppError('gone', 'the shared session has ended');
    if (share.session.userId === user.id) {
      ctx.body = { sessionId: share.sessionId, role: 'owner' };
      return;
    }
    const existing = await prisma.sessionParticipant.findUnique({
      where: { sessionId_userId: { sessionId: share.sessionId, userId: user.id } },
    });
    if (existing?.via === `share:${share.id}` && !existing.revokedAt && !share.revokedAt) {
      ctx.body = { sessionId: share.sessionId, role: existing.role };
      return;
    }
    // One statement decides, so concurrent redeemers cannot exceed the use limit.
    const used = await prisma.$executeRaw`
      UPDATE shares SET uses = uses + 1
      WHERE id = ${share.id}::uuid AND revoked_at IS NULL AND expires_at > now() AND (max_uses IS NULL OR uses < max_uses)`;
    if (used !== 1) throw new AppError('gone', UNUSABLE);
    const data = {
      role: share.mode,
      via: `share:${share.id}`,
      revokedAt: null,
      joinedAt: new Date(),
    };
    await prisma.sessionParticipant.upsert({
      where: { sessionId_userId: { sessionId: share.sessionId, userId: user.id } },
      create: { sessionId: share.sessionId, userId: user.id, ...data },
      update: data,
    });
    await auditRequest(prisma, ctx, 'share.redeem', {
      targetType: 'share',
      targetId: share.id,
      serverId: share.session.serverId,
      sessionId: share.sessionId,
      details: { mode: share.mode },
    });
    ctx.body = { sessionId: share.sessionId, role: share.mode };
  });

  return router;
}
