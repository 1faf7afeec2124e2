import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { RateLimiter, SessionBus } from '@sallyport/bus';
import type { Keyring } from '@sallyport/crypto';
import type { PrismaClient } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import { DirectoryRecordingStore } from '@sallyport/recording';
import {
  listen,
  opsMiddleware,
  type ReadinessChecks,
  type Registry,
} from '@sallyport/observability';
import { LoginSessions } from './auth/login-sessions.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { ConnectThrottle } from './http/connect-throttle.js';
import { authRoutes } from './auth/routes.js';
import { Setup } from './auth/setup.js';
import type { GatewayState } from './http/context.js';
import {
  authenticate,
  errorHandler,
  originCheck,
  requestContext,
  securityHeaders,
} from './http/middleware.js';
import { staticUi } from './http/static.js';
import { fileRoutes } from './files/routes.js';
import { SftpWorkerClient } from './files/worker-client.js';
import { createGatewayMetrics } from './metrics.js';
import { hostKeyRoutes } from './servers/host-key-routes.js';
import { serverRoutes } from './servers/routes.js';
import { auditRoutes } from './audit/routes.js';
import { inviteRoutes } from './invites/routes.js';
import { sessionRoutes } from './sessions/routes.js';
import { shareRoutes } from './shares/routes.js';
import { userRoutes } from './users/routes.js';
import { recordingPolicyRoutes } from './recordings/policy-routes.js';
import { recordingRoutes } from './recordings/routes.js';
import { attachTerminalSockets } from './terminal/upgrade.js';

export interface GatewayOptions {
  host: string;
  port: number;
  publicUrl: string;
  allowedOrigins: string[];
  secureCookies: boolean;
  trustProxy: boolean;
  loginSessionHours: number;
  openTimeoutMs: number;
  loginFailuresPerUser: number;
  loginFailuresPerIp: number;
  connectsPerMinute: number;
  /** The workers' host key policy, shown with each server's pinned key. */
  hostKeyPolicy: 'tofu' | 'strict';
  /** Open sessions allowed per user and in all. */
  sessionLimits: { maxPerUser: number; maxTotal: number };
  /** Output a controlling browser may be behind before the worker pauses the shell. */
  flowWindowBytes: number;
  /** The recorders' store, read for playback and download. */
  recordingDir: string;
  /** The built web UI; omitted, the gateway serves the API only. */
  uiDir?: string | undefined;
  adminUser?: string | undefined;
  adminPassword?: string | undefined;
  /** Where the sftp-worker is and the secret requests to it are signed with; omitted, no Files. */
  files?: { workerUrl: string; internalSecret: string } | undefined;
}

export interface GatewayDeps {
  prisma: PrismaClient;
  bus: SessionBus;
  limiter: RateLimiter;
  keyring: Keyring;
  log: Logger;
  registry: Registry;
  checks: ReadinessChecks;
}

export interface Gateway {
  app: Koa<GatewayState>;
  server: HttpServer;
  url: string;
  /** Stop accepting, tell every terminal client, close sockets. Idempotent. */
  close(): Promise<void>;
}

/** Builds the gateway's Koa app (HTTP API, ops endpoints, UI) without listening. */
export async function createGatewayApp(options: GatewayOptions, deps: GatewayDeps) {
  const { prisma, log } = deps;
  const metrics = createGatewayMetrics(deps.registry);
  const sessions = new LoginSessions(prisma, options.loginSessionHours * 3600_000);
  const setup = new Setup(prisma, log);
  const throttle = new LoginThrottle(deps.limiter, {
    failuresPerUser: options.loginFailuresPerUser,
    failuresPerIp: options.loginFailuresPerIp,
  });
  const connectThrottle = new ConnectThrottle(deps.limiter, options.connectsPerMinute);

  const app = new Koa<GatewayState>({ proxy: options.trustProxy });
  app.silent = true; // errors are logged by errorHandler with the request id
  app.use(opsMiddleware({ registry: deps.registry, checks: deps.checks }));
  app.use(requestContext(log));
  app.use(securityHeaders());
  app.use(errorHandler());
  app.use(originCheck(options.allowedOrigins));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '256kb', encoding: 'utf-8' }));
  app.use(authenticate(sessions));
  for (const router of [
    authRoutes({
      prisma,
      sessions,
      setup,
      throttle,
      metrics,
      secureCookies: options.secureCookies,
    }),
    serverRoutes({
      prisma,
      keyring: deps.keyring,
      bus: deps.bus,
      connectThrottle,
      testTimeoutMs: options.openTimeoutMs,
    }),
    hostKeyRoutes({ prisma, hostKeyPolicy: options.hostKeyPolicy }),
    sessionRoutes({ prisma, bus: deps.bus }),
    shareRoutes({ prisma, bus: deps.bus, publicUrl: options.publicUrl }),
    inviteRoutes({ prisma, bus: deps.bus }),
    userRoutes({ prisma }),
    recordingRoutes({
      prisma,
      keyring: deps.keyring,
      store: new DirectoryRecordingStore(options.recordingDir),
    }),
    recordingPolicyRoutes({ prisma }),
    auditRoutes({ prisma }),
    fileRoutes({
      prisma,
      worker: options.files
        ? new SftpWorkerClient(options.files.workerUrl, options.files.internalSecret)
        : undefined,
    }),
  ]) {
    app.use(router.routes()).use(router.allowedMethods());
  }
  if (options.uiDir) app.use(await staticUi(options.uiDir));
  return { app, sessions, setup, metrics, connectThrottle };
}

/** The gateway, listening: the app plus the terminal WebSockets on the same port. */
export async function startGateway(options: GatewayOptions, deps: GatewayDeps): Promise<Gateway> {
  const { app, sessions, setup, metrics, connectThrottle } = await createGatewayApp(options, deps);
  await setup.onStart(options);
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  // A file upload or download lasts as long as it takes; Node's default cuts requests at 5 min.
  server.requestTimeout = 0;
  const sockets = attachTerminalSockets(server, {
    bus: deps.bus,
    prisma: deps.prisma,
    sessions,
    connectThrottle,
    metrics,
    log: deps.log,
    allowedOrigins: options.allowedOrigins,
    trustProxy: options.trustProxy,
    openTimeoutMs: options.openTimeoutMs,
    limits: options.sessionLimits,
    flowWindowBytes: options.flowWindowBytes,
  });
  await listen(server, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  deps.log.info({ url, publicUrl: options.publicUrl }, 'gateway listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    server,
    url,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        sockets.close();
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
  };
}
