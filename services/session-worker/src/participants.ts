import type { Participant, Role } from '@sallyport/bus';

interface Member {
  userId: string;
  username: string;
  role: Role;
  /** How they came in: "owner", "share:<id>", "invite:<id>". */
  via: string;
}

interface Attachment {
  attachId: string;
  userId: string;
  /** Last heartbeat (or attach) from the gateway holding the socket. */
  lastSeen: number;
  /** The stream offset this socket's browser has rendered up to. */
  ackedOffset: number;
}

/**
 * Who is in a session and what each may do, held by the worker that owns it: the authority
 * the gateways' checks are repeated against. Roles belong to users (a user with two tabs has
 * one role); attachments are sockets, kept alive by their gateway's heartbeats.
 */
export class Participants {
  private readonly members = new Map<string, Member>();
  private readonly attachments = new Map<string, Attachment>();

  constructor(
    private readonly owner: { userId: string; username: string },
    private readonly clock: () => number = Date.now,
  ) {
    this.members.set(owner.userId, { ...owner, role: 'owner', via: 'owner' });
  }

  /**
   * Adds a socket. A user already known keeps the role they have here (a grant made live
   * outlasts a reconnect); a newcomer gets the role the gateway vouched for.
   */
  attach(
    a: { attachId: string; userId: string; username: string; role: Role; via: string },
    offset: number,
  ): void {
    if (!this.members.has(a.userId)) {
      const role: Role =
        a.userId === this.owner.userId ? 'owner' : a.role === 'owner' ? 'view' : a.role;
      this.members.set(a.userId, { userId: a.userId, username: a.username, role, via: a.via });
    }
    this.attachments.set(a.attachId, {
      attachId: a.attachId,
      userId: a.userId,
      lastSeen: this.clock(),
      ackedOffset: offset,
    });
  }

  has(attachId: string): boolean {
    return this.attachments.has(attachId);
  }

  detach(attachId: string): boolean {
    return this.attachments.delete(attachId);
  }

  heartbeat(attachIds: readonly string[]): void {
    const now = this.clock();
    for (const id of attachIds) {
      const a = this.attachments.get(id);
      if (a) a.lastSeen = now;
    }
  }

  /** Drops sockets whose gateway has gone quiet (it died); returns their ids. */
  expire(maxSilenceMs: number): string[] {
    const cutoff = this.clock() - maxSilenceMs;
    const gone = [...this.attachments.values()]
      .filter((a) => a.lastSeen < cutoff)
      .map((a) => a.attachId);
    for (const id of gone) this.attachments.delete(id);
    return gone;
  }

  ack(attachId: string, offset: number): void {
    const a = this.attachments.get(attachId);
    if (a && offset > a.ackedOffset) a.ackedOffset = offset;
  }

  /** A socket restarted from a snapshot at `offset`: it owes nothing before it. */
  resetAck(attachId: string, offset: number): void {
    const a = this.attachments.get(attachId);
    if (a) a.ackedOffset = offset;
  }

  roleOf(userId: string): Role | undefined {
    return this.members.get(userId)?.role;
  }

  canWrite(userId: string): boolean {
    const role = this.roleOf(userId);
    return role === 'owner' || role === 'control';
  }

  isOwner(userId: string): boolean {
    return userId === this.owner.userId;
  }

  /** Grants or takes back control; the owner's own role never changes. */
  setRole(userId: string, role: 'control' | 'view'): boolean {
    const member = this.members.get(userId);
    if (!member || member.role === 'owner' || member.role === role) return false;
    member.role = role;
    return true;
  }

  /** Removes everyone who came in through `via`; returns their sockets, which must close. */
  revoke(via: string): string[] {
    const users = new Set(
      [...this.members.values()]
        .filter((m) => m.via === via && m.role !== 'owner')
        .map((m) => m.userId),
    );
    for (const userId of users) this.members.delete(userId);
    const sockets = [...this.attachments.values()]
      .filter((a) => users.has(a.userId))
      .map((a) => a.attachId);
    for (const id of sockets) this.attachments.delete(id);
    return sockets;
  }

  get attachedCount(): number {
    return this.attachments.size;
  }

  /**
   * How far the slowest socket that may type is behind `offset`. Viewers do not count: a slow
   * viewer must never slow the session down.
   */
  controllerLag(offset: number): number {
    let lag = 0;
    for (const a of this.attachments.values()) {
      if (this.canWrite(a.userId)) lag = Math.max(lag, offset - a.ackedOffset);
    }
    return lag;
  }

  /** The owner first, then everyone with a socket open, with their counts. */
  list(): Participant[] {
    const counts = new Map<string, number>();
    for (const a of this.attachments.values())
      counts.set(a.userId, (counts.get(a.userId) ?? 0) + 1);
    return [...this.members.values()]
      .filter((m) => m.role === 'owner' || counts.has(m.userId))
      .map((m) => ({
        userId: m.userId,
        username: m.username,
        role: m.role,
        attachments: counts.get(m.userId) ?? 0,
      }));
  }
}
