import { finished } from 'node:stream';
import Router, { type RouterContext } from '@koa/router';
import { appendAuditEvent, type PrismaClient, type Server } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import type { Logger } from '@sallyport/log';
import {
  fileOperations,
  isFileOperation,
  switchRefusal,
  type FileOperation,
  type InternalIdentity,
} from '@sallyport/sftp-protocol';
import type { SftpConnection } from './connection.js';
import { PathDenied, sftpFailure } from './errors.js';
import { PathGuard } from './guard.js';
import type { WorkerState } from './internal-auth.js';
import type { SftpMetrics } from './metrics.js';
import type { OpContext, Operation, Reply } from './ops/context.js';
import { download } from './ops/download.js';
import { list, statPath } from './ops/list.js';
import { chmod, mkdir, remove, rename } from './ops/mutate.js';
import { text } from './ops/text.js';
import { upload } from './ops/upload.js';
import { zip } from './ops/zip.js';
import type { SftpPool } from './pool.js';
import type { TransferSlots } from './transfers.js';

const operations: { [Op in FileOperation]: Operation<Op> } = {
  list,
  stat: statPath,
  download,
  zip,
  text,
  upload,
  mkdir,
  rename,
  delete: remove,
  chmod,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface FileRouteDeps {
  prisma: PrismaClient;
  pool: SftpPool;
  slots: TransferSlots;
  metrics: SftpMetrics;
  log: Logger;
  limits: { maxUploadBytes: number; maxZipBytes: number };
}

type Ctx = RouterContext<WorkerState>;

/**
 * The internal file API: one route per operation, all alike. The switches and path rules are
 * checked here again, on the server row this worker reads itself, whatever the gateway decided.
 */
export function fileRoutes(deps: FileRouteDeps): Router<WorkerState> {
  const { prisma, pool, metrics } = deps;
  const router = new Router<WorkerState>({ prefix: '/v1/servers/:serverId/files' });

  const audit = (identity: InternalIdentity, server: Server, action: string, details: object) =>
    appendAuditEvent(prisma, {
      actorId: identity.userId,
      actorName: identity.username,
      action,
      targetType: 'server',
      targetId: server.id,
      serverId: server.id,
      ip: identity.ip,
      details: { ...details },
    }).then(() => undefined);

  router.all('/:op', async (ctx: Ctx) => {
    const op = ctx.params.op ?? '';
    if (!isFileOperation(op)) throw new AppError('not_found', `no such file operation: ${op}`);
    const spec = fileOperations[op];
    if (ctx.method !== spec.method) throw new AppError('bad_request', `${op} takes ${spec.method}`);
    const parsed = spec.params.safeParse(ctx.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new AppError('validation_failed', `${issue.path.join('.')}: ${issue.message}`);
    }
    const identity = ctx.state.identity;
    const serverId = ctx.params.serverId ?? '';
    const server = UUID.test(serverId)
      ? await prisma.server.findUnique({ where: { id: serverId } })
      : null;
    if (!server) throw new AppError('not_found', 'server not found');

    const deny = async (path: string, reason: string): Promise<never> => {
      metrics.operations.inc({ operation: op, outcome: 'denied' });
      // PostgreSQL's JSON cannot hold NUL; record it visibly instead.
      const recorded = path.replaceAll('\0', '\\0');
      await audit(identity, server, 'file.denied', { operation: op, path: recorded, reason });
      throw new AppError('forbidden', `${reason}: ${path}`);
    };
    const refusal = switchRefusal(server, op);
    if (refusal) await deny(String(ctx.query.path ?? ''), refusal);

    const run = (conn: SftpConnection) => {
      const opContext: OpContext<typeof op> = {
        params: parsed.data,
        conn,
        guard: new PathGuard(conn, server.sftpRoots),
        limits: deps.limits,
        request: ctx.req,
        audit: (action, details) => audit(identity, server, action, details),
        countBytes: (n) =>
          metrics.bytes.inc({ direction: op === 'upload' ? 'upload' : 'download' }, n),
      };
      return (operations[op] as Operation<typeof op>)(opContext);
    };

    const releaseSlot = spec.transfer ? deps.slots.take(identity.userId) : () => undefined;
    const direction = op === 'upload' ? 'upload' : 'download';
    if (spec.transfer) metrics.transfersActive.inc({ direction });
    const endTransfer = (ok: boolean) => {
      releaseSlot();
      if (!spec.transfer) return;
      metrics.transfersActive.dec({ direction });
      metrics.transfers.inc({ direction, outcome: ok ? 'ok' : 'failed' });
    };

    let reply: Reply;
    try {
      if (!spec.mutating && !spec.transfer) {
        reply = await pool.run(server, identity.userId, run, { retry: true });
      } else {
        const lease = await pool.acquire(server, identity.userId);
        try {
          reply = await run(lease.conn);
        } catch (err) {
          lease.release();
          throw err;
        }
        if (reply.kind === 'stream') {
          const stream = reply.stream;
          finished(stream, (err) => {
            lease.release();
            endTransfer(!err && stream.readableEnded);
            if (err && (err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE')
              ctx.state.log.warn({ err, op }, 'transfer failed');
          });
        } else {
          lease.release();
        }
      }
    } catch (err) {
      endTransfer(false);
      if (err instanceof PathDenied) return deny(err.path, err.reason);
      metrics.operations.inc({ operation: op, outcome: 'failed' });
      throw sftpFailure(err, op);
    }
    if (reply.kind === 'json') endTransfer(true);
    metrics.operations.inc({ operation: op, outcome: 'ok' });
    respond(ctx, reply);
  });

  return router;
}

function respond(ctx: Ctx, reply: Reply): void {
  if (reply.kind === 'json') {
    ctx.status = reply.status ?? 200;
    ctx.body = reply.body;
    return;
  }
  ctx.attachment(reply.filename, { type: reply.inline ? 'inline' : 'attachment' });
  ctx.type = reply.type;
  if (reply.length !== undefined) ctx.length = reply.length;
  if (reply.lastModified) ctx.lastModified = reply.lastModified;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = reply.stream;
}
