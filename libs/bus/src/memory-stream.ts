// The in-memory model of a Redis stream read in order by consumer groups: an append-only log
// trimmed to about a maximum length, and per group a cursor and the entries handed out but not
// yet acknowledged. Readers pull; nothing is pushed.
import type { StreamEntry } from './transport.js';

interface Entry {
  readonly id: number;
  readonly payload: Buffer;
}

interface Group {
  /** Id of the last entry handed out. */
  cursor: number;
  /** Handed out, not acknowledged: id → consumer. */
  readonly pending: Map<number, string>;
}

// As with MAXLEN ~, trim in batches rather than on every append.
const TRIM_SLACK = 100;

export class MemoryStream {
  private entries: Entry[] = [];
  private nextId = 1;
  private readonly groups = new Map<string, Group>();

  append(payload: Buffer, maxLength: number): void {
    this.entries.push({ id: this.nextId++, payload });
    if (this.entries.length > maxLength + TRIM_SLACK) this.entries = this.entries.slice(-maxLength);
  }

  reader(groupName: string, consumer: string): MemoryStreamReader {
    let group = this.groups.get(groupName);
    if (!group) {
      // Like XGROUP CREATE … 0: a group sees every entry still in the stream.
      group = { cursor: 0, pending: new Map() };
      this.groups.set(groupName, group);
    }
    return new MemoryStreamReader(this, group, consumer);
  }

  /** The entry with this id, unless it was trimmed away. Ids are consecutive: an index. */
  entry(id: number): Entry | undefined {
    const first = this.entries[0];
    if (!first || id < first.id) return undefined;
    return this.entries[id - first.id];
  }

  /** Entries after `id`, oldest first. */
  after(id: number, count: number): Entry[] {
    const first = this.entries[0];
    if (!first) return [];
    return this.entries.slice(
      Math.max(0, id + 1 - first.id),
      Math.max(0, id + 1 - first.id) + count,
    );
  }
}

/** Synchronous; the transport makes it asynchronous, as over a network. */
export class MemoryStreamReader {
  /** Taking over pending entries comes first (those after this id); then new ones. */
  private pendingDone = false;
  private pendingCursor = 0;

  constructor(
    private readonly stream: MemoryStream,
    private readonly group: Group,
    private readonly consumer: string,
  ) {}

  read(count: number): StreamEntry[] {
    const out: StreamEntry[] = [];
    if (!this.pendingDone) {
      const ids = [...this.group.pending.keys()]
        .filter((id) => id > this.pendingCursor)
        .sort((a, b) => a - b);
      for (const id of ids) {
        if (out.length >= count) break;
        const entry = this.stream.entry(id);
        if (!entry) {
          this.group.pending.delete(id); // trimmed away: nothing left to deliver
          continue;
        }
        this.group.pending.set(id, this.consumer);
        this.pendingCursor = id;
        out.push(toEntry(entry));
      }
      if (out.length < count) this.pendingDone = true;
      if (out.length > 0) return out;
    }
    for (const entry of this.stream.after(this.group.cursor, count)) {
      this.group.cursor = entry.id;
      this.group.pending.set(entry.id, this.consumer);
      out.push(toEntry(entry));
    }
    return out;
  }

  ack(ids: readonly string[]): void {
    for (const id of ids) this.group.pending.delete(Number(id));
  }
}

const toEntry = (entry: Entry): StreamEntry => ({
  id: String(entry.id),
  payload: Buffer.from(entry.payload),
});
