import Router from '@koa/router';
import type { KnownHost, PrismaClient } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { KnownHosts, parseHostKey } from '@sallyport/ssh';
import { z } from 'zod';
import { auditRequest } from '../http/audit.js';
import type { GatewayState } from '../http/context.js';
import { requireAdmin, requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { findServer } from './routes.js';

export interface HostKeyRouteDeps {
  prisma: PrismaClient;
  /** The workers' policy for a host with no pinned key (SALLYPORT_HOST_KEY_POLICY). */
  hostKeyPolicy: 'tofu' | 'strict';
}

/** What clients see of a pinned key: enough to compare it with the host's own. */
const publicHostKey = (key: KnownHost) => ({
  keyType: key.keyType,
  fingerprint: key.fingerprint,
  publicKey: `${key.keyType} ${key.publicKey}`,
  pinnedAt: key.createdAt,
});

const pinSchema = z.object({ publicKey: z.string().min(1).max(16_384) }).strict();

/**
 * A server's pinned host key. Keys are pinned per host and port (servers at the same address
 * share one). Everyone signed in may see it, to compare it with the host's; admins pin one
 * deliberately or forget it, when a host is rebuilt or strict checking wants one first.
 */
export function hostKeyRoutes(deps: HostKeyRouteDeps): Router<GatewayState> {
  const { prisma } = deps;
  const knownHosts = new KnownHosts(prisma, deps.hostKeyPolicy);
  const router = new Router<GatewayState>({ prefix: '/api/servers/:id/host-key' });

  router.get('/', requireUser, async (ctx) => {
    const server = await findServer(prisma, ctx.params.id ?? '');
    const pinned = await knownHosts.pinned(server.host, server.port);
    ctx.body = {
      host: server.host,
      port: server.port,
      policy: deps.hostKeyPolicy,
      hostKey: pinned ? publicHostKey(pinned) : null,
    };
  });

  router.put('/', requireAdmin, async (ctx) => {
    const server = await findServer(prisma, ctx.params.id ?? '');
    const { publicKey } = validate(pinSchema, ctx.request.body);
    const parsed = parseHostKey(publicKey, server);
    if ('error' in parsed)
      throw new AppError('validation_failed', `publicKey: ${parsed.error}`, {
        field: 'publicKey',
      });
    const { pinned, replaced } = await knownHosts.pin(server.host, server.port, parsed.blob);
    await auditRequest(prisma, ctx, 'host_key.pin', {
      targetType: 'server',
      targetId: server.id,
      serverId: server.id,
      details: {
        host: server.host,
        port: server.port,
        fingerprint: pinned.fingerprint,
        replaced: replaced?.fingerprint ?? null,
      },
    });
    ctx.body = { hostKey: publicHostKey(pinned) };
  });

  router.delete('/', requireAdmin, async (ctx) => {
    const server = await findServer(prisma, ctx.params.id ?? '');
    const forgotten = await knownHosts.forget(server.host, server.port);
    if (!forgotten)
      throw new AppError(
        'not_found',
        `no host key is pinned for ${server.host} port ${server.port}`,
      );
    await auditRequest(prisma, ctx, 'host_key.forget', {
      targetType: 'server',
      targetId: server.id,
      serverId: server.id,
      details: { host: server.host, port: server.port, fingerprint: forgotten.fingerprint },
    });
    ctx.status = 204;
  });

  return router;
}
