import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import { listen } from './listen.js';

/** Named dependency checks for /readyz; each resolves when its dependency answers. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

const CHECK_TIMEOUT_MS = 2_000;

/**
 * `/healthz` (the process is alive), `/readyz` (its dependencies answer) and `/metrics`
 * (Prometheus). Mounted on the gateway's app and served alone by the other services.
 */
export function opsMiddleware(options: {
  registry: Registry;
  checks: ReadinessChecks;
}): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      await next();
      return;
    }
    switch (ctx.path) {
      case '/healthz':
        ctx.body = { status: 'ok' };
        return;
      case '/readyz': {
        const results = await runChecks(options.checks);
        const ready = Object.values(results).every((r) => r === 'ok');
        ctx.status = ready ? 200 : 503;
        ctx.body = { status: ready ? 'ok' : 'unavailable', checks: results };
        return;
      }
      case '/metrics':
        ctx.type = options.registry.contentType;
        ctx.body = await options.registry.metrics();
        return;
      default:
        await next();
    }
  };
}

async function runChecks(checks: ReadinessChecks): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, (err as Error).message || 'failed'] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}

export interface OpsServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The ops endpoints on their own port, for services that have no HTTP API of their own. */
export async function startOpsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  checks: ReadinessChecks;
}): Promise<OpsServer> {
  const app = new Koa();
  app.use(opsMiddleware(options));
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await listen(server, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${options.host}:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
