// One member of a Redis stream consumer group. It owns a blocking connection (a blocked
// XREADGROUP holds its connection, as BullMQ's Worker holds its own), while acks and claims go
// over the transport's shared command connection.
import type { Redis } from 'ioredis';
import type { ConsumeOptions, QueueConsumer } from './transport.js';
import type { BusLogger } from './logger.js';
import { Ending } from './ending.js';
import { claimCheckIntervalMs, DEFAULT_CLAIM_IDLE_MS, reportConsumerError } from './internal.js';
import { parsePending, parseReadReply, parseStreamEntries, PAYLOAD_FIELD } from './redis-stream.js';

/** How long one XREADGROUP blocks before the loop looks at capacity again. stop() does not wait for it. */
const BLOCK_MS = 5_000;
/** Pause after a failed read, so an unreachable Redis is not hammered. */
const ERROR_BACKOFF_MS = 1_000;
/** Idle items looked at per claim round. */
const CLAIM_BATCH = 10;
/**
 * How long stop() waits for Redis to answer what is already on the wire (a read interrupted by
 * the disconnect, final XACKs). ioredis never settles a command queued while it is between
 * reconnect attempts once it is disconnected, so without this bound stop() could hang forever.
 */
const SHUTDOWN_GRACE_MS = 1_000;

export interface RedisConsumerDeps {
  commands: Redis;
  blocking: Redis;
  streamKey: string;
  logger: BusLogger;
  onStopped: () => void;
}

export class RedisConsumer implements QueueConsumer {
  private readonly claimIdleMs: number;
  private readonly checkMs: number;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  /** Handlers running in this process, by entry id, each ending with its XACK. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private wakeUp: (() => void) | undefined;
  /** Comes SHUTDOWN_GRACE_MS after stop(): Redis calls still unanswered then are abandoned. */
  private readonly abandoned = new Ending<undefined>();
  private readonly reading: Promise<void>;
  private claiming: Promise<void> | undefined;
  private readonly claimTimer: NodeJS.Timeout;

  constructor(
    private readonly options: ConsumeOptions,
    private readonly deps: RedisConsumerDeps,
  ) {
    this.claimIdleMs = options.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS;
    this.checkMs = claimCheckIntervalMs(this.claimIdleMs);
    this.reading = this.readLoop();
    this.claimTimer = setInterval(() => this.claimSoon(), this.checkMs);
    this.claimTimer.unref();
  }

  wake(): void {
    this.wakeUp?.();
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.claimTimer);
    this.wakeUp?.();
    // A blocked XREADGROUP only returns after BLOCK_MS; dropping the connection ends it now.
    // An entry Redis handed out in that very instant still reaches us before the socket closes
    // and is handled; one lost with an unreachable Redis stays pending under our name and is
    // claimed by another consumer after claimIdleMs, like one of a crashed process.
    this.deps.blocking.disconnect();
    const grace = setTimeout(() => this.abandoned.resolve(undefined), SHUTDOWN_GRACE_MS);
    await this.reading;
    await this.claiming;
    // Handlers may take as long as they take (the contract); their XACKs get the grace period.
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
    clearTimeout(grace);
    this.deps.onStopped();
  }

  /** `operation`'s result, or undefined once stop()'s grace period is over. */
  private bounded<T>(operation: Promise<T>): Promise<T | undefined> {
    return this.abandoned.race(operation);
  }

  private async readLoop(): Promise<void> {
    let groupExists = false;
    while (!this.stopped) {
      try {
        if (!groupExists) {
          await this.bounded(this.createGroup());
          groupExists = true;
        }
        if (!this.wantsWork()) {
          // At capacity: read nothing, so the group's other consumers get the work.
          await this.pause(this.checkMs);
          continue;
        }
        const { group, consumer } = this.options;
        const reply = await this.bounded(
          this.deps.blocking.callBuffer(
            'XREADGROUP',
            'GROUP',
            group,
            consumer,
            'COUNT',
            1,
            'BLOCK',
            BLOCK_MS,
            'STREAMS',
            this.deps.streamKey,
            '>',
          ),
        );
        for (const entry of parseReadReply(reply)) this.dispatch(entry.id, entry.payload);
      } catch (err) {
        if (this.stopped) break;
        // The group vanished (Redis restarted without persistence, or was flushed): recreate it.
        if (isNoGroup(err)) groupExists = false;
        this.report(err);
        await this.pause(ERROR_BACKOFF_MS);
      }
    }
  }

  /**
   * Created at id 0, not $: a request enqueued before any consumer existed is still served.
   * (Only the group's very first creation reads old entries; afterwards it keeps its place.)
   */
  private async createGroup(): Promise<void> {
    try {
      await this.deps.commands.xgroup(
        'CREATE',
        this.deps.streamKey,
        this.options.group,
        '0',
        'MKSTREAM',
      );
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
  }

  private claimSoon(): void {
    if (this.claiming || this.stopped) return;
    this.claiming = this.claimIdle()
      .catch((err: unknown) => {
        if (!isNoGroup(err)) this.report(err);
      })
      .finally(() => {
        this.claiming = undefined;
      });
  }

  /**
   * Takes over items left unacknowledged for claimIdleMs. XPENDING + XCLAIM rather than
   * XAUTOCLAIM, so we can skip items we are still handling ourselves: claiming those would
   * reset their idle time and hide them from consumers that could rescue them. Items pending
   * under our own name but not in flight here are a previous incarnation's, and fair game.
   */
  private async claimIdle(): Promise<void> {
    if (!this.wantsWork()) return;
    const { commands, streamKey } = this.deps;
    const { group, consumer } = this.options;
    const idle = this.claimIdleMs;
    const pending = parsePending(
      await this.bounded(
        commands.call('XPENDING', streamKey, group, 'IDLE', idle, '-', '+', CLAIM_BATCH),
      ),
    );
    for (const item of pending) {
      if (this.stopped || !this.wantsWork()) return;
      if (item.consumer === consumer && this.inFlight.has(item.id)) continue;
      // XCLAIM re-checks the idle time, so of two consumers racing for an item only one wins.
      const claimed = await this.bounded(
        commands.callBuffer('XCLAIM', streamKey, group, consumer, idle, item.id),
      );
      for (const entry of parseStreamEntries(claimed)) this.dispatch(entry.id, entry.payload);
    }
  }

  /** Starts the handler synchronously, so hasCapacity() counts it before the next read. */
  private dispatch(id: string, payload: Buffer | undefined): void {
    if (this.inFlight.has(id)) return;
    const settled = this.handle(id, payload)
      .then(() => this.ack(id))
      .finally(() => {
        this.inFlight.delete(id);
        this.wakeUp?.();
      });
    this.inFlight.set(id, settled);
  }

  private async handle(id: string, payload: Buffer | undefined): Promise<void> {
    if (!payload) {
      this.report(new Error(`queue entry ${id} has no "${PAYLOAD_FIELD}" field; dropping it`));
      return;
    }
    try {
      await this.options.handler(payload);
    } catch (err) {
      this.report(err);
    }
  }

  /** A failed XACK leaves the item pending; it is claimed and handled again (at least once). */
  private async ack(id: string): Promise<void> {
    try {
      await this.bounded(this.deps.commands.xack(this.deps.streamKey, this.options.group, id));
    } catch (err) {
      this.report(err);
    }
  }

  private wantsWork(): boolean {
    if (this.stopped) return false;
    try {
      return this.options.hasCapacity();
    } catch (err) {
      this.report(err);
      return false;
    }
  }

  /** Sleeps until `ms` pass, wake() is called, a handler settles, or the consumer stops. */
  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private report(err: unknown): void {
    reportConsumerError(this.options, this.deps.logger, err);
  }
}

function isNoGroup(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOGROUP');
}
