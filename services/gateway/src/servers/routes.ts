import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { SessionBus } from '@sallyport/bus';
import type { Keyring } from '@sallyport/crypto';
import type { PrismaClient, Server } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { serverSecretContext } from '@sallyport/ssh';
import { auditRequest } from '../http/audit.js';
import type { ConnectThrottle } from '../http/connect-throttle.js';
import type { GatewayState } from '../http/context.js';
import { requireAdmin, requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { testConnection } from './connection-test.js';
import { createServerSchema, updateServerSchema, type CreateServerInput } from './schema.js';
import { isUuid } from '../http/ids.js';

/** What clients see of a server: never a secret, only whether one is set. */
export const publicServer = (s: Server) => ({
  id: s.id,
  name: s.name,
  host: s.host,
  port: s.port,
  username: s.username,
  authType: s.authType,
  hasPassphrase: s.passphraseEncrypted !== null,
  group: s.group,
  tags: s.tags,
  sftpEnabled: s.sftpEnabled,
  sftpReadOnly: s.sftpReadOnly,
  sftpRoots: s.sftpRoots,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

const secretContext = serverSecretContext;

/** Finds a server by id; a malformed id is as missing as an unknown one. */
export async function findServer(prisma: PrismaClient, id: string): Promise<Server> {
  const server = isUuid(id) ? await prisma.server.findUnique({ where: { id } }) : null;
  if (!server) throw new AppError('not_found', 'server not found');
  return server;
}

export interface ServerRouteDeps {
  prisma: PrismaClient;
  keyring: Keyring;
  bus: SessionBus;
  connectThrottle: ConnectThrottle;
  testTimeoutMs: number;
}

/** The server registry: everyone signed in may list and connect; only admins change it. */
export function serverRoutes(deps: ServerRouteDeps): Router<GatewayState> {
  const { prisma, keyring } = deps;
  const router = new Router<GatewayState>({ prefix: '/api/servers' });

  const encryptAuth = (id: string, auth: CreateServerInput['auth']) =>
    auth.type === 'password'
      ? {
          authType: 'password',
          secretEncrypted: keyring.encrypt(auth.password, secretContext(id, 'secret')),
          passphraseEncrypted: null,
        }
      : {
          authType: 'key',
          secretEncrypted: keyring.encrypt(auth.privateKey, secretContext(id, 'secret')),
          passphraseEncrypted: auth.passphrase
            ? keyring.encrypt(auth.passphrase, secretContext(id, 'passphrase'))
            : null,
        };

  const uniqueName = (err: unknown, name: string | undefined): never => {
    if ((err as { code?: string }).code === 'P2002')
      throw new AppError('conflict', `a server named "${name}" already exists`, { field: 'name' });
    throw err;
  };

  router.get('/', requireUser, async (ctx) => {
    const servers = await prisma.server.findMany({ orderBy: { name: 'asc' } });
    ctx.body = { servers: servers.map(publicServer) };
  });

  router.get('/:id', requireUser, async (ctx) => {
    ctx.body = { server: publicServer(await findServer(prisma, ctx.params.id ?? '')) };
  });

  router.post('/', requireAdmin, async (ctx) => {
    const input = validate(createServerSchema, ctx.request.body);
    const id = randomUUID();
    const server = await prisma.server
      .create({
        data: {
          id,
          name: input.name,
          host: input.host,
          port: input.port,
          username: input.username,
          group: input.group ?? null,
          tags: input.tags,
          sftpEnabled: input.sftpEnabled,
          sftpReadOnly: input.sftpReadOnly,
          sftpRoots: input.sftpRoots,
          ...encryptAuth(id, input.auth),
        },
      })
      .catch((err: unknown) => uniqueName(err, input.name));
    await auditRequest(prisma, ctx, 'server.create', {
      targetType: 'server',
      targetId: id,
      serverId: id,
      details: {
        name: server.name,
        host: server.host,
        port: server.port,
        username: server.username,
        sftpEnabled: server.sftpEnabled,
        sftpReadOnly: server.sftpReadOnly,
        sftpRoots: server.sftpRoots,
      },
    });
    ctx.status = 201;
    ctx.body = { server: publicServer(server) };
  });

  router.put('/:id', requireAdmin, async (ctx) => {
    const existing = await findServer(prisma, ctx.params.id ?? '');
    const { auth, ...changes } = validate(updateServerSchema, ctx.request.body);
    const server = await prisma.server
      .update({
        where: { id: existing.id },
        data: { ...changes, ...(auth ? encryptAuth(existing.id, auth) : {}) },
      })
      .catch((err: unknown) => uniqueName(err, changes.name));
    await auditRequest(prisma, ctx, 'server.update', {
      targetType: 'server',
      targetId: server.id,
      serverId: server.id,
      details: { changed: [...Object.keys(changes), ...(auth ? ['auth'] : [])] },
    });
    ctx.body = { server: publicServer(server) };
  });

  router.delete('/:id', requireAdmin, async (ctx) => {
    const server = await findServer(prisma, ctx.params.id ?? '');
    await prisma.server.delete({ where: { id: server.id } });
    await auditRequest(prisma, ctx, 'server.delete', {
      targetType: 'server',
      targetId: server.id,
      serverId: server.id,
      details: { name: server.name },
    });
    ctx.status = 204;
  });

  router.post('/:id/test', requireUser, async (ctx) => {
    const server = await findServer(prisma, ctx.params.id ?? '');
    if (!(await deps.connectThrottle.allow(ctx.state.user!.id))) {
      throw new AppError('rate_limited', 'too many connection attempts; wait a minute');
    }
    const result = await testConnection(deps.bus, {
      userId: ctx.state.user!.id,
      username: ctx.state.user!.username,
      serverId: server.id,
      clientIp: ctx.ip,
      timeoutMs: deps.testTimeoutMs,
    });
    await auditRequest(prisma, ctx, 'server.test', {
      targetType: 'server',
      targetId: server.id,
      serverId: server.id,
      details: { ok: result.ok, message: result.message },
    });
    ctx.body = result;
  });

  return router;
}
