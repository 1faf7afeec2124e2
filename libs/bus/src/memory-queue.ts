// The in-memory model of a Redis stream with consumer groups: an append-only log, and per
// group a cursor (last delivered id) and a pending list (delivered, not yet acknowledged).
import { MAX_QUEUE_LENGTH } from './internal.js';

interface Entry {
  readonly id: number;
  readonly payload: Buffer;
}

interface Pending {
  readonly entry: Entry;
  holder: GroupMember;
  deliveredAt: number;
}

/** A consumer as its group sees it. */
export interface GroupMember {
  readonly claimIdleMs: number;
  /** Running and has capacity right now. */
  wantsWork(): boolean;
  /** Starts the handler (synchronously, so the caller's capacity count includes it) and acks when it settles. */
  receive(id: number, payload: Buffer): void;
}

// Trimming one entry per append would make every append O(n); trim in batches, as ~ does.
const TRIM_SLACK = 1_000;

export class MemoryQueue {
  private entries: Entry[] = [];
  private nextId = 1;
  private readonly groups = new Map<string, ConsumerGroup>();

  constructor(private readonly clock: () => number) {}

  append(payload: Buffer): void {
    this.entries.push({ id: this.nextId++, payload });
    if (this.entries.length > MAX_QUEUE_LENGTH + TRIM_SLACK) {
      this.entries = this.entries.slice(-MAX_QUEUE_LENGTH);
    }
    for (const group of this.groups.values()) group.schedule();
  }

  /**
   * The named group, created on first use starting at the oldest retained entry — as the Redis
   * transport creates its groups at id 0 — so nothing enqueued before the first consumer is lost.
   */
  group(name: string): ConsumerGroup {
    let group = this.groups.get(name);
    if (!group) {
      group = new ConsumerGroup(this, this.clock, this.entries[0]?.id ?? this.nextId);
      this.groups.set(name, group);
    }
    return group;
  }

  /** The oldest retained entry with an id of at least `id`. Ids are consecutive, so it is an index. */
  entryFrom(id: number): Entry | undefined {
    const first = this.entries[0];
    if (!first) return undefined;
    return this.entries[Math.max(0, id - first.id)];
  }
}

export class ConsumerGroup {
  private readonly pending = new Map<number, Pending>();
  private members: GroupMember[] = [];
  /** Round-robin start, so work spreads over consumers as blocked Redis readers take turns. */
  private turn = 0;
  private scheduled = false;

  constructor(
    private readonly queue: MemoryQueue,
    private readonly clock: () => number,
    private cursor: number,
  ) {}

  join(member: GroupMember): void {
    this.members.push(member);
    this.schedule();
  }

  leave(member: GroupMember): void {
    this.members = this.members.filter((m) => m !== member);
  }

  /** Like XACK: removes the item whoever holds it now. */
  ack(id: number): void {
    this.pending.delete(id);
    this.schedule();
  }

  /** Hand out work on a later turn of the event loop: never re-entrantly inside enqueue or wake. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    // Each pending item changes hands at most once per drain: with a tiny claimIdleMs two
    // members could otherwise claim it back and forth forever without yielding.
    const claimed = new Set<number>();
    for (;;) {
      const members = this.members;
      let served = false;
      for (let i = 0; i < members.length && !served; i++) {
        const index = (this.turn + i) % members.length;
        const member = members[index];
        if (!member?.wantsWork()) continue;
        const stale = this.claimableBy(member, claimed);
        if (stale) claimed.add(stale.id);
        const entry = stale ?? this.takeNew();
        if (!entry) continue;
        this.turn = index + 1;
        this.pending.set(entry.id, { entry, holder: member, deliveredAt: this.clock() });
        member.receive(entry.id, entry.payload);
        served = true;
      }
      if (!served) return;
    }
  }

  /**
   * An item another member has held unacknowledged for the claimer's claimIdleMs. A member never
   * claims its own: in one process its handler is by definition still running.
   */
  private claimableBy(member: GroupMember, skip: ReadonlySet<number>): Entry | undefined {
    const now = this.clock();
    for (const item of this.pending.values()) {
      if (skip.has(item.entry.id)) continue;
      if (item.holder !== member && now - item.deliveredAt >= member.claimIdleMs) {
        return item.entry;
      }
    }
    return undefined;
  }

  private takeNew(): Entry | undefined {
    const entry = this.queue.entryFrom(this.cursor);
    if (entry) this.cursor = entry.id + 1;
    return entry;
  }
}
