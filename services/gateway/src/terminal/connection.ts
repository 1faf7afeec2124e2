import type { WebSocket, RawData } from 'ws';
import type { SessionBus, SessionMessage } from '@sallyport/bus';
import { appendAuditEvent, type PrismaClient, type Server, type User } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import { parseClientMessage, type ServerMessage } from '@sallyport/protocol';
import type { LeaseWatch } from './lease-watch.js';
import type { GatewayMetrics } from '../metrics.js';

export interface TerminalDeps {
  bus: SessionBus;
  prisma: PrismaClient;
  leaseWatch: LeaseWatch;
  metrics: GatewayMetrics;
  log: Logger;
  openTimeoutMs: number;
}

// A browser this far behind on output is not reading; close rather than buffer without bound.
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * One browser tab's terminal: relays the socket to the session on the bus and back. It holds
 * no SSH state; the session lives in whichever worker took it.
 */
export class TerminalConnection {
  private readonly log: Logger;
  private unsubscribe: (() => Promise<void>) | undefined;
  private unwatchLease: (() => void) | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  private state: 'opening' | 'accepted' | 'ready' | 'ended' = 'opening';

  constructor(
    private readonly ws: WebSocket,
    private readonly sessionId: string,
    private readonly user: User,
    private readonly server: Server,
    private readonly size: { cols: number; rows: number },
    private readonly clientIp: string,
    private readonly deps: TerminalDeps,
  ) {
    this.log = deps.log.child({ sessionId, userId: user.id, serverId: server.id });
  }

  async start(): Promise<void> {
    const { bus, prisma, openTimeoutMs } = this.deps;
    this.ws.on('message', (data, isBinary) => this.onClientFrame(data, isBinary));
    this.ws.on('close', () => void this.onClientGone());
    this.ws.on('error', (err) => this.log.warn({ err }, 'terminal socket error'));

    await prisma.terminalSession.create({
      data: {
        id: this.sessionId,
        userId: this.user.id,
        serverId: this.server.id,
        cols: this.size.cols,
        rows: this.size.rows,
        clientIp: this.clientIp,
      },
    });
    await appendAuditEvent(prisma, {
      actorId: this.user.id,
      actorName: this.user.username,
      action: 'session.start',
      targetType: 'server',
      targetId: this.server.id,
      serverId: this.server.id,
      sessionId: this.sessionId,
      ip: this.clientIp,
      details: { host: this.server.host, port: this.server.port, username: this.server.username },
    });
    // Watch before asking, so not one byte of the first output is missed.
    this.unsubscribe = await bus.watch(this.sessionId, (msg) => this.onSessionMessage(msg));
    this.send({
      type: 'session',
      id: this.sessionId,
      serverId: this.server.id,
      serverName: this.server.name,
    });
    this.openTimer = setTimeout(() => {
      if (this.state === 'opening') {
        void this.finish(
          'timeout',
          `no session worker took the session within ${Math.round(openTimeoutMs / 1000)} s`,
        );
      }
    }, openTimeoutMs);
    await bus.requestOpen({
      sessionId: this.sessionId,
      kind: 'shell',
      userId: this.user.id,
      serverId: this.server.id,
      cols: this.size.cols,
      rows: this.size.rows,
      deadline: Date.now() + openTimeoutMs,
    });
    this.log.info('terminal session requested');
  }

  private onSessionMessage(msg: SessionMessage): void {
    switch (msg.type) {
      case 'output':
        if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          this.log.warn('browser is not reading output; closing its socket');
          this.ws.close(1013, 'client too slow');
          return;
        }
        this.deps.metrics.bytes.inc({ direction: 'out' }, msg.data.length);
        this.ws.send(msg.data, { binary: true });
        return;
      case 'accepted':
        this.state = 'accepted';
        clearTimeout(this.openTimer);
        this.unwatchLease = this.deps.leaseWatch.watch(
          this.sessionId,
          () => void this.onWorkerLost(),
        );
        return;
      case 'ready':
        this.state = 'ready';
        this.send({
          type: 'ready',
          hostKeyFingerprint: msg.hostKeyFingerprint,
          hostKeyPinned: msg.hostKeyPinned,
        });
        return;
      case 'ended':
        void this.close({
          type: 'exit',
          reason: msg.reason,
          message: msg.message,
          code: msg.exitCode,
          signal: msg.exitSignal,
        });
        return;
    }
  }

  private onClientFrame(data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      if (this.state !== 'ready')
        return this.send({
          type: 'error',
          code: 'not_ready',
          message: 'the terminal is not connected yet',
        });
      this.deps.metrics.bytes.inc({ direction: 'in' }, bytes.length);
      this.relay({ type: 'input', userId: this.user.id, data: bytes });
      return;
    }
    const parsed = parseClientMessage(bytes.toString('utf8'));
    if (!parsed.ok) return this.send({ type: 'error', code: parsed.code, message: parsed.message });
    switch (parsed.message.type) {
      case 'resize':
        this.relay({
          type: 'resize',
          userId: this.user.id,
          cols: parsed.message.cols,
          rows: parsed.message.rows,
        });
        return;
      case 'close':
        this.relay({ type: 'close', userId: this.user.id });
        return;
    }
  }

  private relay(msg: Parameters<SessionBus['sendInput']>[1]): void {
    this.deps.bus.sendInput(this.sessionId, msg).catch((err: unknown) => {
      this.log.warn({ err }, 'could not relay input to the session');
      this.send({
        type: 'error',
        code: 'not_ready',
        message: 'the session is unreachable right now',
      });
    });
  }

  /** The owner's tab went away. Until sessions can be resumed, that ends the session. */
  private async onClientGone(): Promise<void> {
    if (this.state === 'ended') return;
    const wasOpen = this.state !== 'opening';
    await this.close(undefined);
    if (wasOpen) this.relay({ type: 'close', userId: this.user.id });
    else await this.markEnded('closed', 'the browser disconnected before the session opened');
  }

  private async onWorkerLost(): Promise<void> {
    await this.finish('worker_lost', 'the session worker was lost; the session has ended');
  }

  /** Ends a session the worker can no longer end itself: record it, then tell the client. */
  private async finish(reason: 'worker_lost' | 'timeout', message: string): Promise<void> {
    await this.markEnded(reason, message);
    await this.close({ type: 'exit', reason, message, code: null, signal: null });
  }

  private async markEnded(reason: string, message: string): Promise<void> {
    await this.deps.prisma.terminalSession
      .updateMany({
        where: { id: this.sessionId, endedAt: null },
        data: { status: 'ended', endedAt: new Date(), endReason: reason, endMessage: message },
      })
      .catch((err: unknown) => this.log.error({ err }, 'could not record the session end'));
  }

  private async close(final: ServerMessage | undefined): Promise<void> {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.openTimer);
    this.unwatchLease?.();
    if (final) {
      this.log.info(
        { reason: final.type === 'exit' ? final.reason : undefined },
        'terminal session ended',
      );
      this.send(final);
      this.ws.close(1000, 'session ended');
    }
    await this.unsubscribe?.().catch((err: unknown) =>
      this.log.warn({ err }, 'could not unsubscribe'),
    );
  }

  private send(msg: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }
}
