import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import Cookies from 'cookies';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionBus } from '@sallyport/bus';
import type { PrismaClient, User } from '@sallyport/db';
import { isAppError } from '@sallyport/errors';
import type { Logger } from '@sallyport/log';
import { MAX_FRAME_BYTES, terminalSizeSchema } from '@sallyport/protocol';
import { SESSION_COOKIE, type LoginSessions } from '../auth/login-sessions.js';
import type { ConnectThrottle } from '../http/connect-throttle.js';
import { isUuid } from '../http/ids.js';
import type { GatewayMetrics } from '../metrics.js';
import { sessionAccess, type SessionAccess } from '../sessions/access.js';
import { Attachment } from './attachment.js';
import { EarlyWatch } from './early-watch.js';
import { attachToSession, openNewSession } from './open.js';
import { AttachmentRegistry } from './registry.js';
import type { SessionLimits } from './session-row.js';

export const TERMINAL_PATH = '/api/terminal';
const PING_INTERVAL_MS = 30_000;

export interface TerminalUpgradeDeps {
  bus: SessionBus;
  prisma: PrismaClient;
  sessions: LoginSessions;
  connectThrottle: ConnectThrottle;
  metrics: GatewayMetrics;
  log: Logger;
  allowedOrigins: readonly string[];
  trustProxy: boolean;
  openTimeoutMs: number;
  limits: SessionLimits;
  flowWindowBytes: number;
}

type Target =
  | {
      kind: 'new';
      serverId: string;
      size: { cols: number; rows: number };
      subscription: EarlyWatch;
    }
  | { kind: 'attach'; access: SessionAccess };

/** The gateway says no before the upgrade, with an HTTP status. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {
    super(text);
  }
}

/**
 * Terminal WebSockets: `/api/terminal?serverId=…&cols=…&rows=…` opens a new session,
 * `/api/terminal?sessionId=…` attaches to a running one (a resume, a share, an invitation).
 * Who may connect is checked before the upgrade (Origin, login cookie, the request, access to a
 * running session), so a refused client never gets a socket. Whether a new session may open (its
 * server exists, the session limits allow it) is decided as its row is written, after the
 * upgrade, and a refusal is told on the socket, where a browser can show it (open.ts). A worker
 * connects to the server meanwhile, and logs in only once the session is admitted: for a
 * refused session the connection goes no further than the key exchange. A new session's
 * subscription is made while the socket is checked, so that the worker is asked as soon as the
 * socket opens (EarlyWatch).
 */
export function attachTerminalSockets(
  httpServer: HttpServer,
  deps: TerminalUpgradeDeps,
): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const registry = new AttachmentRegistry(deps.bus, deps.prisma, deps.log);

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node takes its error listener off a socket it hands over for an upgrade, and ws adds its own
    // only once the checks below are done: a client that resets the connection meanwhile would
    // otherwise crash the gateway.
    socket.on('error', () => socket.destroy());
    accept(req, socket, head).catch((err: unknown) => {
      if (err instanceof Refusal) return refuse(socket, err.status, err.text);
      if (isAppError(err) && err.expose) return refuse(socket, err.status, err.message);
      deps.log.error({ err }, 'terminal upgrade failed');
      refuse(socket, 500, 'Internal error');
    });
  });

  async function accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== TERMINAL_PATH) throw new Refusal(404, 'Not Found');
    const origin = req.headers.origin;
    if (!origin || !deps.allowedOrigins.includes(origin))
      throw new Refusal(403, 'Origin not allowed');
    const auth = await deps.sessions.resolve(
      new Cookies(req, undefinedResponse).get(SESSION_COOKIE),
    );
    if (!auth) throw new Refusal(401, 'Not logged in');
    if (socket.destroyed) return; // the client went during the login check
    const joining = url.searchParams.get('sessionId');
    // A new session's subscription is made while the socket is checked (EarlyWatch), and
    // cancelled if the socket is refused or closes before its attachment takes it (ws closes a
    // socket it does not upgrade). Like the login check, it costs every attempt, even one the
    // rate limit refuses: the limit spares the servers, not Redis.
    const subscription =
      joining === null ? new EarlyWatch(deps.bus, crypto.randomUUID()) : undefined;
    if (subscription) socket.once('close', () => subscription.cancel());
    try {
      // Independent round trips, at once; every attempt counts against the user's rate.
      const [target, allowed] = await Promise.all([
        subscription ? newSessionTarget(url, subscription) : attachTarget(joining!, auth.user),
        deps.connectThrottle.allow(auth.user.id),
      ]);
      if (!allowed) throw new Refusal(429, 'Too many connection attempts');
      upgrade(req, socket, head, auth.user, target);
    } catch (err) {
      subscription?.cancel();
      throw err;
    }
  }

  function upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    user: User,
    target: Target,
  ): void {
    const clientIp = clientAddress(req, deps.trustProxy);
    wss.handleUpgrade(req, socket, head, (ws) => {
      keepAlive(ws);
      const started =
        target.kind === 'new'
          ? startNew(ws, user, target, clientIp)
          : startAttach(ws, user, target, clientIp);
      started.catch((err: unknown) => {
        deps.log.error({ err }, 'could not start the terminal');
        ws.close(1011, 'could not start the session');
      });
    });
  }

  async function attachTarget(sessionId: string, user: User): Promise<Target> {
    return { kind: 'attach', access: await sessionAccess(deps.prisma, sessionId, user) };
  }

  // Async, so that a refusal comes after the throttle has counted the attempt, as any other.
  async function newSessionTarget(url: URL, subscription: EarlyWatch): Promise<Target> {
    const serverId = url.searchParams.get('serverId') ?? '';
    const size = terminalSizeSchema.safeParse({
      cols: Number(url.searchParams.get('cols') ?? 80),
      rows: Number(url.searchParams.get('rows') ?? 24),
    });
    if (!size.success) throw new Refusal(400, 'Invalid terminal size');
    if (!isUuid(serverId)) throw new Refusal(404, 'Server not found');
    // Whether the server exists and the session limits allow another is decided with the
    // session's row, after the upgrade (open.ts).
    return { kind: 'new', serverId, size: size.data, subscription };
  }

  async function startNew(
    ws: WebSocket,
    user: User,
    target: Extract<Target, { kind: 'new' }>,
    clientIp: string,
  ): Promise<void> {
    const attachment = track(
      ws,
      { userId: user.id, username: user.username, role: 'owner', via: 'owner' },
      target.subscription.sessionId,
      { hasOwner: false },
    );
    await openNewSession(
      attachment,
      {
        user,
        serverId: target.serverId,
        size: target.size,
        clientIp,
        subscription: target.subscription,
      },
      deps,
    );
  }

  async function startAttach(
    ws: WebSocket,
    user: User,
    target: Extract<Target, { kind: 'attach' }>,
    clientIp: string,
  ): Promise<void> {
    const { access } = target;
    const attachment = track(
      ws,
      { userId: user.id, username: user.username, role: access.role, via: access.via },
      access.session.id,
      { hasOwner: true },
    );
    await attachToSession(attachment, access, clientIp, deps);
  }

  function track(
    ws: WebSocket,
    who: Omit<Attachment['identity'], 'sessionId'>,
    sessionId: string,
    { hasOwner }: { hasOwner: boolean },
  ): Attachment {
    const attachment = new Attachment(ws, { sessionId, ...who }, deps);
    // An attach goes to a session that already has an owner; a new one has none until accepted.
    registry.add(attachment, { watchLease: hasOwner });
    return attachment;
  }

  function keepAlive(ws: WebSocket): void {
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
  }

  return {
    close: () => {
      registry.stop();
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
