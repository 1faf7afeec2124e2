import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import Cookies from 'cookies';
import { WebSocketServer } from 'ws';
import type { PrismaClient } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import { MAX_FRAME_BYTES, terminalSizeSchema } from '@sallyport/protocol';
import { SESSION_COOKIE, type LoginSessions } from '../auth/login-sessions.js';
import type { ConnectThrottle } from '../http/connect-throttle.js';
import { TerminalConnection, type TerminalDeps } from './connection.js';
import { isUuid } from '../http/ids.js';

export const TERMINAL_PATH = '/api/terminal';
const PING_INTERVAL_MS = 30_000;

export interface TerminalUpgradeDeps extends TerminalDeps {
  sessions: LoginSessions;
  connectThrottle: ConnectThrottle;
  prisma: PrismaClient;
  allowedOrigins: readonly string[];
  trustProxy: boolean;
  log: Logger;
}

/**
 * Accepts terminal WebSockets at /api/terminal?serverId=…&cols=…&rows=…. Everything is checked
 * before the upgrade (Origin, login cookie, the request itself, the server), so a refused
 * client never gets a socket and no SSH work starts for it.
 */
export function attachTerminalSockets(
  httpServer: HttpServer,
  deps: TerminalUpgradeDeps,
): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void accept(req, socket, head).catch((err: unknown) => {
      deps.log.error({ err }, 'terminal upgrade failed');
      refuse(socket, 500, 'Internal error');
    });
  });

  async function accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== TERMINAL_PATH) return refuse(socket, 404, 'Not Found');
    const origin = req.headers.origin;
    if (!origin || !deps.allowedOrigins.includes(origin))
      return refuse(socket, 403, 'Origin not allowed');
    const auth = await deps.sessions.resolve(
      new Cookies(req, undefinedResponse).get(SESSION_COOKIE),
    );
    if (!auth) return refuse(socket, 401, 'Not logged in');
    const serverId = url.searchParams.get('serverId') ?? '';
    const size = terminalSizeSchema.safeParse({
      cols: Number(url.searchParams.get('cols') ?? 80),
      rows: Number(url.searchParams.get('rows') ?? 24),
    });
    if (!size.success) return refuse(socket, 400, 'Invalid terminal size');
    const server = isUuid(serverId)
      ? await deps.prisma.server.findUnique({ where: { id: serverId } })
      : null;
    if (!server) return refuse(socket, 404, 'Server not found');
    if (!(await deps.connectThrottle.allow(auth.user.id)))
      return refuse(socket, 429, 'Too many connection attempts');

    wss.handleUpgrade(req, socket, head, (ws) => {
      deps.metrics.websockets.inc();
      let alive = true;
      ws.on('pong', () => (alive = true));
      const ping = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
      }, PING_INTERVAL_MS);
      ws.on('close', () => {
        clearInterval(ping);
        deps.metrics.websockets.dec();
      });
      const clientIp = clientAddress(req, deps.trustProxy);
      const connection = new TerminalConnection(
        ws,
        randomUUID(),
        auth.user,
        server,
        size.data,
        clientIp,
        deps,
      );
      connection.start().catch((err: unknown) => {
        deps.log.error({ err }, 'could not start a terminal session');
        ws.close(1011, 'could not start the session');
      });
    });
  }

  return {
    close: () => {
      for (const ws of wss.clients) ws.close(1001, 'gateway shutting down');
      wss.close();
    },
  };
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first || req.socket.remoteAddress || 'unknown';
}

// `cookies` only reads from the request here; it needs a response object to exist.
const undefinedResponse = {} as ConstructorParameters<typeof Cookies>[1];
