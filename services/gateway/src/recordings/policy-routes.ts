import Router from '@koa/router';
import { z } from 'zod';
import type { PrismaClient } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { policyScope, resolveRecordingPolicy } from '@sallyport/recording';
import { auditRequest } from '../http/audit.js';
import type { GatewayContext, GatewayState } from '../http/context.js';
import { requireAdmin, requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { findServer } from '../servers/routes.js';

const policySchema = z
  .object({
    enabled: z.boolean(),
    mode: z.enum(['best_effort', 'strict']).default('best_effort'),
    recordInput: z.boolean().default(false),
  })
  .strict();

// The same rules as a server's group field: the scope is built from it.
const groupName = z.string().trim().min(1).max(100);

const publicPolicy = (p: {
  scope: string;
  enabled: boolean;
  mode: string;
  recordInput: boolean;
}) => ({ scope: p.scope, enabled: p.enabled, mode: p.mode, recordInput: p.recordInput });

/**
 * The recording switch: globally, per server group and per server (the most specific one set
 * applies). Admins set them; anyone signed in may ask whether a server's sessions are recorded.
 */
export function recordingPolicyRoutes(deps: { prisma: PrismaClient }): Router<GatewayState> {
  const { prisma } = deps;
  const router = new Router<GatewayState>({ prefix: '/api/recording-policies' });

  router.get('/', requireAdmin, async (ctx) => {
    const policies = await prisma.recordingPolicy.findMany({ orderBy: { scope: 'asc' } });
    ctx.body = { policies: policies.map(publicPolicy) };
  });

  router.get('/effective/:serverId', requireUser, async (ctx) => {
    const server = await findServer(prisma, ctx.params.serverId ?? '');
    ctx.body = { policy: await resolveRecordingPolicy(prisma, server) };
  });

  const scopeOf = async (ctx: GatewayContext): Promise<string> => {
    const { kind, name } = ctx.params as { kind?: string; name?: string };
    if (kind === 'groups') return policyScope.group(validate(groupName, name));
    if (kind === 'servers') return policyScope.server((await findServer(prisma, name ?? '')).id);
    throw new AppError('not_found', `no such policy scope: ${kind}`);
  };

  const set = async (ctx: GatewayContext, scope: string): Promise<void> => {
    const input = validate(policySchema, ctx.request.body);
    const policy = await prisma.recordingPolicy.upsert({
      where: { scope },
      create: { scope, ...input },
      update: input,
    });
    await auditRequest(prisma, ctx, 'recording_policy.set', {
      targetType: 'recording_policy',
      targetId: scope,
      details: input,
    });
    ctx.body = { policy: publicPolicy(policy) };
  };

  router.put('/global', requireAdmin, (ctx) => set(ctx, policyScope.global));
  router.put('/:kind/:name', requireAdmin, async (ctx) => set(ctx, await scopeOf(ctx)));
  router.delete('/:kind/:name', requireAdmin, async (ctx) => {
    const scope = await scopeOf(ctx);
    await prisma.recordingPolicy.deleteMany({ where: { scope } });
    await auditRequest(prisma, ctx, 'recording_policy.delete', {
      targetType: 'recording_policy',
      targetId: scope,
    });
    ctx.status = 204;
  });

  return router;
}
