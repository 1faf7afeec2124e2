import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Keyring } from '@sallyport/crypto';
import { appendAuditEvent, type PrismaClient } from '@sallyport/db';
import { AppError, toClientError } from '@sallyport/errors';
import type { Logger } from '@sallyport/log';
import {
  listen,
  opsMiddleware,
  type ReadinessChecks,
  type Registry,
} from '@sallyport/observability';
import { KnownHosts, TargetPolicy, type SshSettings } from '@sallyport/ssh';
import { sftpFailure } from './errors.js';
import { requireGatewaySignature, type WorkerState } from './internal-auth.js';
import { createSftpMetrics } from './metrics.js';
import { SftpPool } from './pool.js';
import { fileRoutes } from './routes.js';
import { openSftp } from './sftp-connect.js';
import { TransferSlots } from './transfers.js';

export interface SftpWorkerOptions {
  host: string;
  /** 0 picks a free port (embedded mode). */
  port: number;
  /** The secret gateways sign requests with (SALLYPORT_INTERNAL_SECRET). */
  internalSecret: string;
  /** A pooled connection unused this long is closed. Default 5 minutes. */
  idleTtlMs: number;
  /** Every SFTP request must be answered within this. Default 20 s. */
  opTimeoutMs: number;
  maxUploadBytes: number;
  maxZipBytes: number;
  maxTransfersPerUser: number;
  /** Exactly the session worker's SSH settings: same timeouts, host-key policy and targets. */
  ssh: SshSettings;
}

export interface SftpWorkerDeps {
  prisma: PrismaClient;
  keyring: Keyring;
  log: Logger;
  registry: Registry;
  checks: ReadinessChecks;
  now?: () => number;
}

export interface SftpWorker {
  url: string;
  server: HttpServer;
  pool: SftpPool;
  /** Stops accepting, cuts running transfers and closes every pooled connection. Idempotent. */
  close(): Promise<void>;
}

/** Builds the sftp-worker's Koa app (internal file API and ops endpoints) without listening. */
export function createSftpWorkerApp(options: SftpWorkerOptions, deps: SftpWorkerDeps) {
  const { prisma, log } = deps;
  const metrics = createSftpMetrics(deps.registry);
  const connectDeps = {
    keyring: deps.keyring,
    knownHosts: new KnownHosts(prisma, options.ssh.hostKeyPolicy),
    policy: new TargetPolicy({ deny: options.ssh.targetDeny, allow: options.ssh.targetAllow }),
    ssh: {
      connectTimeoutMs: options.ssh.connectTimeoutMs,
      keepaliveIntervalMs: options.ssh.keepaliveIntervalMs,
    },
    opTimeoutMs: options.opTimeoutMs,
    now: deps.now,
    onConnected: (outcome: string, seconds: number) =>
      metrics.connectSeconds.observe({ outcome }, seconds),
    onHostKey: async (
      server: { id: string; host: string; port: number },
      userId: string,
      verdict: { kind: string; fingerprint: string; pinnedFingerprint?: string },
    ) => {
      const user = await prisma.user.findUnique({ where: { id: userId } });
      await appendAuditEvent(prisma, {
        actorId: userId,
        actorName: user?.username ?? 'unknown',
        action: verdict.kind === 'pinned' ? 'host_key.pinned' : 'host_key.mismatch',
        targetType: 'server',
        targetId: server.id,
        serverId: server.id,
        details: {
          host: server.host,
          port: server.port,
          fingerprint: verdict.fingerprint,
          ...(verdict.pinnedFingerprint ? { pinnedFingerprint: verdict.pinnedFingerprint } : {}),
        },
      });
    },
  };
  const pool = new SftpPool({
    idleTtlMs: options.idleTtlMs,
    now: deps.now,
    connect: (server, userId) => openSftp(server, userId, connectDeps),
    onSize: (size) => metrics.poolSize.set(size),
  });
  const routes = fileRoutes({
    prisma,
    pool,
    slots: new TransferSlots(options.maxTransfersPerUser),
    metrics,
    log,
    limits: { maxUploadBytes: options.maxUploadBytes, maxZipBytes: options.maxZipBytes },
  });

  const app = new Koa<WorkerState>();
  app.silent = true; // failures are logged below with the gateway's request id
  app.use(opsMiddleware({ registry: deps.registry, checks: deps.checks }));
  app.use(async (ctx, next) => {
    ctx.state.log = log;
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined)
        throw new AppError('not_found', `no such endpoint: ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const { status, body } = toClientError(sftpFailure(err, 'do that'));
      // A target that is down or refuses is worth a warning; only our own failures are errors.
      if (status === 500) ctx.state.log.error({ err }, 'request failed');
      else if (status > 500) ctx.state.log.warn({ err: (err as Error).message }, 'target failed');
      ctx.status = status;
      ctx.body = body;
    }
  });
  app.use(requireGatewaySignature(options.internalSecret, deps.now));
  app.use(async (ctx, next) => {
    const { reqId, userId } = ctx.state.identity;
    ctx.state.log = log.child({ reqId, userId });
    await next();
  });
  app.use(routes.routes()).use(routes.allowedMethods());
  return { app, pool };
}

/** The sftp-worker, listening on its own port. */
export async function startSftpWorker(
  options: SftpWorkerOptions,
  deps: SftpWorkerDeps,
): Promise<SftpWorker> {
  const { app, pool } = createSftpWorkerApp(options, deps);
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  // An upload or download lasts as long as the file takes; Node's default would cut it at 5 min.
  server.requestTimeout = 0;
  await listen(server, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    pool,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await pool.close();
        server.closeAllConnections();
        await closed;
      })()),
  };
}
