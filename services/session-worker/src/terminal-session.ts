import type { ClientChannel, Client as SshClient } from 'ssh2';
import type { EndReason, InputMessage, OpenRequest, SessionBus } from '@sallyport/bus';
import type { Keyring } from '@sallyport/crypto';
import { appendAuditEvent, type PrismaClient } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import { connectServer, type KnownHosts, type TargetPolicy } from '@sallyport/ssh';
import type { WorkerMetrics } from './metrics.js';

export interface SessionDeps {
  workerId: string;
  bus: SessionBus;
  prisma: PrismaClient;
  keyring: Keyring;
  knownHosts: KnownHosts;
  policy: TargetPolicy;
  log: Logger;
  metrics: WorkerMetrics;
  ssh: { connectTimeoutMs: number; keepaliveIntervalMs: number };
}

// Output waiting to be published beyond this pauses the SSH channel, so a slow bus never
// grows this process's memory without bound.
const PAUSE_AT_PENDING_PUBLISHES = 64;
const RESUME_AT_PENDING_PUBLISHES = 16;

/**
 * One terminal session owned by this worker: it holds the SSH connection and the shell,
 * publishes sequenced output, applies input from the bus, renews its ownership lease, and
 * records how it ended. `end()` is idempotent and runs every cleanup step.
 */
export class TerminalSession {
  readonly id: string;
  private readonly log: Logger;
  private client: SshClient | undefined;
  private channel: ClientChannel | undefined;
  private seq = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private pendingPublishes = 0;
  private size: { cols: number; rows: number };
  private exitStatus: { code: number | null; signal: string | null } = { code: null, signal: null };
  private leaseTimer: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private ending: Promise<void> | undefined;
  private readonly endedPromise: Promise<void>;
  private resolveEnded!: () => void;

  constructor(
    private readonly request: OpenRequest,
    private readonly deps: SessionDeps,
  ) {
    this.id = request.sessionId;
    this.size = { cols: request.cols, rows: request.rows };
    this.log = deps.log.child({ sessionId: request.sessionId, kind: request.kind });
    this.endedPromise = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Resolves when the session has ended and been cleaned up. */
  get ended(): Promise<void> {
    return this.endedPromise;
  }

  /** Announces ownership and starts connecting; the connection continues in the background. */
  async start(): Promise<void> {
    const { bus, workerId } = this.deps;
    this.stopListening = await bus.listenInput(this.id, (msg) => this.onInput(msg));
    this.leaseTimer = setInterval(() => void this.renewLease(), Math.floor(bus.leaseTtlMs / 3));
    await bus.publish(this.id, { type: 'accepted', workerId });
    if (this.request.kind === 'shell') {
      const claimed = await this.deps.prisma.terminalSession.updateMany({
        where: { id: this.id, endedAt: null },
        data: { workerId },
      });
      // The browser may have left (and the gateway closed the row) while the request waited.
      if (claimed.count === 0)
        return this.end('closed', 'the client left before the session opened');
    }
    void this.connect().catch((err: unknown) => {
      this.log.error({ err }, 'session failed');
      return this.end('error', 'the session failed unexpectedly');
    });
  }

  private async connect(): Promise<void> {
    const { prisma, keyring, knownHosts, policy, metrics } = this.deps;
    const server = await prisma.server.findUnique({ where: { id: this.request.serverId } });
    if (!server) return this.end('error', 'the server no longer exists');

    const startedAt = performance.now();
    const result = await connectServer(server, { keyring, knownHosts, policy, ssh: this.deps.ssh });
    metrics.connectSeconds.observe(
      { outcome: result.ok ? 'ok' : result.reason },
      (performance.now() - startedAt) / 1000,
    );
    if (result.hostKey?.kind === 'pinned' || result.hostKey?.kind === 'mismatch') {
      await this.audit(result.hostKey.kind === 'pinned' ? 'host_key.pinned' : 'host_key.mismatch', {
        host: server.host,
        port: server.port,
        fingerprint: result.hostKey.fingerprint,
        ...(result.hostKey.kind === 'mismatch'
          ? { pinnedFingerprint: result.hostKey.pinnedFingerprint }
          : {}),
      });
    }
    if (!result.ok) return this.end(result.reason, result.message);
    if (this.ending) {
      result.client.end();
      return;
    }
    this.client = result.client;
    const hostKey = {
      hostKeyFingerprint: result.hostKey.fingerprint,
      hostKeyPinned: result.hostKey.kind === 'pinned',
    };

    if (this.request.kind === 'test') {
      await this.deps.bus.publish(this.id, { type: 'ready', ...hostKey });
      return this.end(
        'closed',
        `connected to ${server.host}:${server.port} and authenticated as ${server.username}`,
      );
    }
    this.client.on(
      'close',
      () =>
        void this.end('connect_failed', `the connection to ${server.host}:${server.port} was lost`),
    );
    this.openShell(hostKey);
  }

  private openShell(hostKey: { hostKeyFingerprint: string; hostKeyPinned: boolean }): void {
    this.client!.shell(
      { term: 'xterm-256color', cols: this.size.cols, rows: this.size.rows },
      (err, channel) => {
        if (err) return void this.end('error', `the server refused a shell: ${err.message}`);
        if (this.ending) return void channel.close();
        this.channel = channel;
        channel.on('data', (data: Buffer) => this.onOutput(data));
        channel.stderr.on('data', (data: Buffer) => this.onOutput(data));
        channel.on('exit', (code: number | null, signal?: string) => {
          this.exitStatus = { code: code ?? null, signal: signal ?? null };
        });
        channel.on('close', () => {
          const { code, signal } = this.exitStatus;
          const how = signal
            ? `was killed by signal ${signal}`
            : `exited with code ${code ?? 'unknown'}`;
          void this.end('exit', `the shell ${how}`);
        });
        void this.markActive(hostKey);
      },
    );
  }

  private async markActive(hostKey: {
    hostKeyFingerprint: string;
    hostKeyPinned: boolean;
  }): Promise<void> {
    this.deps.metrics.sessionsOpen.inc();
    await this.deps.bus.publish(this.id, { type: 'ready', ...hostKey });
    await this.deps.prisma.terminalSession.updateMany({
      where: { id: this.id, endedAt: null },
      data: { status: 'active', connectedAt: new Date() },
    });
  }

  private onOutput(data: Buffer): void {
    this.bytesOut += data.length;
    this.deps.metrics.bytes.inc({ direction: 'out' }, data.length);
    this.seq += 1;
    this.pendingPublishes += 1;
    if (this.pendingPublishes >= PAUSE_AT_PENDING_PUBLISHES) this.channel?.pause();
    this.deps.bus.publish(this.id, { type: 'output', seq: this.seq, data }).then(
      () => {
        this.pendingPublishes -= 1;
        if (this.pendingPublishes === RESUME_AT_PENDING_PUBLISHES) this.channel?.resume();
      },
      (err: unknown) => {
        this.pendingPublishes -= 1;
        this.log.warn({ err }, 'could not publish output');
      },
    );
  }

  private onInput(msg: InputMessage): void {
    // The gateway checks who may write; the worker checks again, so a message put on the bus
    // directly cannot type into someone else's session.
    if (msg.userId !== this.request.userId) {
      this.log.warn(
        { userId: msg.userId, type: msg.type },
        'refused input from a user without control',
      );
      return;
    }
    switch (msg.type) {
      case 'input':
        if (!this.channel) return;
        this.bytesIn += msg.data.length;
        this.deps.metrics.bytes.inc({ direction: 'in' }, msg.data.length);
        this.channel.write(msg.data);
        return;
      case 'resize':
        this.size = { cols: msg.cols, rows: msg.rows };
        this.channel?.setWindow(msg.rows, msg.cols, 0, 0);
        return;
      case 'close':
        void this.end('closed', 'the session was closed by its owner');
        return;
    }
  }

  private async renewLease(): Promise<void> {
    try {
      if (!(await this.deps.bus.renewOwnership(this.id, this.deps.workerId))) {
        await this.end('worker_lost', 'this worker lost ownership of the session');
      }
    } catch (err) {
      // The bus is unreachable: keep the shell; if the lease lapses meanwhile, gateways end it.
      this.log.warn({ err }, 'could not renew the session lease');
    }
  }

  /** Ends the session once: tells every watcher, records the outcome, frees everything. */
  end(reason: EndReason, message: string): Promise<void> {
    this.ending ??= this.cleanUp(reason, message).finally(() => this.resolveEnded());
    return this.ending;
  }

  private async cleanUp(reason: EndReason, message: string): Promise<void> {
    const { bus, prisma, metrics, workerId } = this.deps;
    const wasActive = this.channel !== undefined;
    const { code, signal } = reason === 'exit' ? this.exitStatus : { code: null, signal: null };
    this.log.info(
      { reason, exitCode: code, bytesIn: this.bytesIn, bytesOut: this.bytesOut },
      message,
    );
    clearInterval(this.leaseTimer);
    await runAll(this.log, [
      () => this.stopListening?.(),
      () => {
        this.channel?.close();
        this.client?.end();
      },
      () =>
        bus.publish(this.id, {
          type: 'ended',
          reason,
          message,
          exitCode: code,
          exitSignal: signal,
        }),
      () =>
        this.request.kind === 'shell'
          ? prisma.terminalSession.updateMany({
              where: { id: this.id, endedAt: null },
              data: {
                status: 'ended',
                endedAt: new Date(),
                endReason: reason,
                endMessage: message,
                exitCode: code,
                exitSignal: signal,
                bytesIn: BigInt(this.bytesIn),
                bytesOut: BigInt(this.bytesOut),
              },
            })
          : undefined,
      () =>
        this.request.kind === 'shell'
          ? this.audit('session.end', { reason, message, exitCode: code })
          : undefined,
      () => bus.releaseOwnership(this.id, workerId),
    ]);
    if (wasActive) metrics.sessionsOpen.dec();
    metrics.sessionsEnded.inc({ reason });
  }

  private async audit(action: string, details: Record<string, unknown>): Promise<void> {
    const user = await this.deps.prisma.user.findUnique({ where: { id: this.request.userId } });
    await appendAuditEvent(this.deps.prisma, {
      actorId: this.request.userId,
      actorName: user?.username ?? 'unknown',
      action,
      targetType: 'server',
      targetId: this.request.serverId,
      serverId: this.request.serverId,
      sessionId: this.request.kind === 'shell' ? this.id : null,
      details,
    });
  }
}

/** Runs every step even when an earlier one fails, logging each failure. */
async function runAll(log: Logger, steps: Array<() => unknown>): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      log.warn({ err }, 'cleanup step failed');
    }
  }
}
