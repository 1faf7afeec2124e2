import Router from '@koa/router';
import type { PrismaClient } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { fileOperations, isFileOperation, switchRefusal } from '@sallyport/sftp-protocol';
import { currentUser, type GatewayState } from '../http/context.js';
import { requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';
import { findServer } from '../servers/routes.js';
import type { SftpWorkerClient } from './worker-client.js';

export interface FileRouteDeps {
  prisma: PrismaClient;
  /** Absent when no sftp-worker is configured: every file request is then answered 503. */
  worker: SftpWorkerClient | undefined;
}

/**
 * The Files API, /api/servers/:id/files/:op: the gateway authenticates the user, validates the
 * request, applies the server's switches, and forwards it signed to the sftp-worker, which
 * applies the path rules on the target's canonical paths and audits every change.
 *
 * Reads are GET with a query; upload is PUT with the file as the body and its options in the
 * query; every other change is POST with a JSON body (which a cross-site form cannot send).
 */
export function fileRoutes(deps: FileRouteDeps): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/api/servers/:id/files' });

  router.all('/:op', requireUser, async (ctx) => {
    const op = ctx.params.op ?? '';
    if (!isFileOperation(op)) throw new AppError('not_found', `no such file operation: ${op}`);
    const spec = fileOperations[op];
    if (ctx.method !== spec.method)
      throw new AppError('bad_request', `${op} must be sent as ${spec.method}`);
    // Anything but raw bytes may have been read as JSON by the body parser already.
    if (op === 'upload' && !ctx.is('application/octet-stream'))
      throw new AppError('bad_request', 'send the file as the body, as application/octet-stream');
    const params = validate(spec.params, spec.method === 'POST' ? ctx.request.body : ctx.query);
    const server = await findServer(deps.prisma, ctx.params.id ?? '');
    const refusal = switchRefusal(server, op);
    if (refusal) throw new AppError('forbidden', refusal);
    if (!deps.worker)
      throw new AppError(
        'unavailable',
        'file access is not set up on this gateway (SALLYPORT_SFTP_WORKER_URL is not set)',
      );
    const user = currentUser(ctx);
    await deps.worker.forward(ctx, {
      op,
      method: spec.method,
      serverId: server.id,
      params: params,
      identity: { userId: user.id, username: user.username, ip: ctx.ip, reqId: ctx.state.reqId },
      body: op === 'upload' ? ctx.req : undefined,
    });
  });

  return router;
}
