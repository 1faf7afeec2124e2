/**
 * The primitives every bus transport provides. All cross-process logic (placement, leases,
 * sequencing) lives above this interface in SessionBus, so the in-memory and the Redis
 * transport only move bytes and keep keys, and one conformance suite covers both.
 *
 * Names passed in are logical ("sess:42:out"); a transport adds its own prefix.
 */
export interface Transport {
  /** Fan a message out to every current subscriber of `channel`. At most once, in order. */
  publish(channel: string, payload: Buffer): Promise<void>;

  /**
   * Receive everything published to `channel` from the moment the returned promise resolves,
   * in publication order. Returns the function that unsubscribes.
   */
  subscribe(channel: string, onMessage: (payload: Buffer) => void): Promise<Unsubscribe>;

  /** Append a work item to a durable queue read by consumer groups (a Redis stream). */
  enqueue(queue: string, payload: Buffer): Promise<void>;

  /**
   * Pull work from `queue` as consumer `consumer` of `group`. Each item goes to exactly one
   * consumer of the group; it is acknowledged when the handler settles. An item left
   * unacknowledged (its consumer died) for `claimIdleMs` is claimed by another consumer.
   */
  consume(options: ConsumeOptions): QueueConsumer;

  /**
   * Append an entry to `stream`, a durable ordered log (a Redis stream) that keeps about the
   * newest `maxLength` entries. Unlike a queue, a stream is read in order by one reader at a
   * time per group (see openStreamReader).
   */
  append(stream: string, payload: Buffer, maxLength: number): Promise<void>;

  /**
   * Read `stream` in order as `consumer` of `group`, acknowledging what has been dealt with.
   * The first reads take over and return every entry the group was given but never
   * acknowledged (by a reader that died), oldest first; then entries the group has not seen.
   * The caller makes sure one reader per group is active at a time (e.g. with a lease).
   */
  openStreamReader(options: StreamReaderOptions): StreamReader;

  /** Remove `stream`, its entries and its groups. */
  deleteStream(stream: string): Promise<void>;

  /** Take `key` for `owner` for `ttlMs` if nobody holds it. */
  acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extend a lease `owner` still holds; false when it lapsed or someone else holds it. */
  renewLease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Give a lease up, only if `owner` still holds it. */
  releaseLease(key: string, owner: string): Promise<void>;
  /** Current holder of each key, null where the lease is free or lapsed. */
  leaseOwners(keys: readonly string[]): Promise<(string | null)[]>;

  /**
   * Counts events under `key` in a fixed window of `windowMs` that opens with the first event,
   * shared by every process on the bus (rate limits across replicas). With `add` false it only
   * reads the count.
   */
  countInWindow(key: string, windowMs: number, add: boolean): Promise<WindowCount>;

  /** Resolves when the transport's backing service answers (used by /readyz). */
  ping(): Promise<void>;
  /** Stop every consumer and subscription and close connections. Idempotent. */
  close(): Promise<void>;
}

export type Unsubscribe = () => Promise<void>;

export interface WindowCount {
  /** Events counted in the current window (0 when none is open). */
  count: number;
  /** Milliseconds until the window closes (0 when none is open). */
  resetInMs: number;
}

export interface ConsumeOptions {
  queue: string;
  group: string;
  /** Unique per process; Redis shows it in XINFO CONSUMERS. */
  consumer: string;
  /** Handles one item. The item is acknowledged when this settles, resolved or rejected. */
  handler: (payload: Buffer) => Promise<void>;
  /** Checked before every read: a consumer at its limit stops reading, so others get the work. */
  hasCapacity: () => boolean;
  /** Items pending longer than this on a dead consumer are claimed. Default 15 000 ms. */
  claimIdleMs?: number;
  /** Reports a handler or transport failure; the consumer keeps going. */
  onError?: (err: unknown) => void;
}

export interface StreamReaderOptions {
  stream: string;
  group: string;
  /** Unique per process; Redis shows it in XINFO CONSUMERS. */
  consumer: string;
}

export interface StreamEntry {
  /** Opaque and increasing; what ack() takes. */
  id: string;
  payload: Buffer;
}

/** One reader of a stream (see Transport.openStreamReader). */
export interface StreamReader {
  /**
   * Up to `count` entries, oldest first, without waiting: [] when there is nothing new. An entry
   * trimmed away before it was read is skipped (the reader sees the gap in its own numbering).
   */
  read(count: number): Promise<StreamEntry[]>;
  /** These entries are dealt with: no reader of the group gets them again. */
  ack(ids: readonly string[]): Promise<void>;
}

export interface QueueConsumer {
  /** Call when capacity frees up, so a consumer that stopped reading resumes at once. */
  wake(): void;
  /** Stop reading; resolves when in-flight handlers have settled. Idempotent. */
  stop(): Promise<void>;
}
