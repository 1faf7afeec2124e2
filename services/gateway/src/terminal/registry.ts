import type { SessionBus } from '@sallyport/bus';
import { appendAuditEvent, type PrismaClient } from '@sallyport/db';
import type { Logger } from '@sallyport/log';
import type { Attachment } from './attachment.js';
import { LeaseWatch } from './lease-watch.js';

const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * Every terminal socket this gateway holds, by session. It tells each session's worker, by
 * heartbeat, which sockets are still here (so those of a gateway that died are dropped), and
 * watches each session's owner lease so that a lost worker ends every socket on it.
 */
export class AttachmentRegistry {
  private readonly bySession = new Map<string, Set<Attachment>>();
  private readonly leaseWatch: LeaseWatch;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly bus: SessionBus,
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
  ) {
    this.leaseWatch = new LeaseWatch(bus, log);
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Tracks a socket; `watchLease` once its session is known to have an owner. */
  add(attachment: Attachment, options: { watchLease: boolean }): void {
    const { sessionId } = attachment;
    let set = this.bySession.get(sessionId);
    if (!set) this.bySession.set(sessionId, (set = new Set()));
    set.add(attachment);
    attachment.onClosed = () => this.remove(attachment);
    if (options.watchLease) this.watchLease(sessionId);
    else attachment.onAccepted = () => this.watchLease(sessionId);
  }

  private remove(attachment: Attachment): void {
    if (attachment.identity.via !== 'owner') void this.auditLeave(attachment);
    const set = this.bySession.get(attachment.sessionId);
    set?.delete(attachment);
    if (set?.size === 0) {
      this.bySession.delete(attachment.sessionId);
      this.leaseWatch.unwatch(attachment.sessionId);
    }
  }

  /** Joins are audited when they happen (open.ts); so is each participant leaving. */
  private async auditLeave(attachment: Attachment): Promise<void> {
    const { sessionId, userId, username, role, via } = attachment.identity;
    await appendAuditEvent(this.prisma, {
      actorId: userId,
      actorName: username,
      action: 'session.leave',
      targetType: 'session',
      targetId: sessionId,
      sessionId,
      details: { role, via },
    }).catch((err: unknown) =>
      this.log.warn({ err, sessionId }, 'could not audit a participant leaving'),
    );
  }

  private watchLease(sessionId: string): void {
    if (this.bySession.has(sessionId))
      this.leaseWatch.watch(sessionId, () => void this.onWorkerLost(sessionId));
  }

  /** The worker is gone, so nobody else will record the end: do it, then tell every socket. */
  private async onWorkerLost(sessionId: string): Promise<void> {
    const message = 'the session worker was lost; the session has ended';
    this.log.warn({ sessionId }, message);
    await this.prisma.terminalSession
      .updateMany({
        where: { id: sessionId, endedAt: null },
        data: {
          status: 'ended',
          endedAt: new Date(),
          endReason: 'worker_lost',
          endMessage: message,
        },
      })
      .catch((err: unknown) =>
        this.log.error({ err, sessionId }, 'could not record the session end'),
      );
    for (const a of this.bySession.get(sessionId) ?? [])
      a.finish({ type: 'exit', reason: 'worker_lost', message, code: null, signal: null });
  }

  private async heartbeat(): Promise<void> {
    await Promise.all(
      [...this.bySession].map(([sessionId, set]) =>
        this.bus
          .sendInput(sessionId, { type: 'heartbeat', attachIds: [...set].map((a) => a.attachId) })
          .catch((err: unknown) => this.log.warn({ err, sessionId }, 'could not send a heartbeat')),
      ),
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.leaseWatch.stop();
  }
}
