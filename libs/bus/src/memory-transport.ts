// The bus for embedded mode: one process runs every service, so the "Redis" is a MemoryBackend
// in this process. It keeps Redis's semantics (asynchronous ordered pub/sub, consumer groups
// with claiming, leases that lapse) so services cannot come to rely on anything only it does.
import type {
  ConsumeOptions,
  QueueConsumer,
  StreamReader,
  StreamReaderOptions,
  Transport,
  Unsubscribe,
  WindowCount,
} from './transport.js';
import { consoleLogger, type BusLogger } from './logger.js';
import {
  claimCheckIntervalMs,
  closedError,
  DEFAULT_CLAIM_IDLE_MS,
  leaseTtl,
  reportConsumerError,
} from './internal.js';
import { createMemoryBackend, type MemoryBackend } from './memory-backend.js';
import type { ConsumerGroup, GroupMember } from './memory-queue.js';

export type MemoryTransportOptions = { logger?: BusLogger } & (
  | {
      /** Epoch ms for leases and claim idle times. Default Date.now. */
      clock?: () => number;
      backend?: undefined;
    }
  | {
      /** Shares state with other transports ("processes"); the backend's clock applies. */
      backend: MemoryBackend;
      clock?: undefined;
    }
);

export function createMemoryTransport(options: MemoryTransportOptions = {}): Transport {
  const backend = options.backend ?? createMemoryBackend({ clock: options.clock ?? Date.now });
  return new MemoryTransport(backend, options.logger ?? consoleLogger);
}

class MemoryTransport implements Transport {
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly subscriptions = new Set<() => Promise<void>>();
  private readonly consumers = new Set<MemoryConsumer>();

  constructor(
    private readonly backend: MemoryBackend,
    private readonly logger: BusLogger,
  ) {}

  publish(channel: string, payload: Buffer): Promise<void> {
    return this.run(() => this.backend.publish(channel, payload));
  }

  subscribe(channel: string, onMessage: (payload: Buffer) => void): Promise<Unsubscribe> {
    return this.run(() => {
      // Checked at delivery, so nothing arrives once unsubscribe() was called, even a message
      // published earlier whose microtask has not run yet.
      let active = true;
      const remove = this.backend.subscribe(channel, (payload) => {
        if (!active) return;
        try {
          onMessage(payload);
        } catch (err) {
          this.logger.error({ err, channel }, 'bus: subscriber threw');
        }
      });
      const cancel = (): Promise<void> => {
        if (active) {
          active = false;
          remove();
          this.subscriptions.delete(cancel);
        }
        return Promise.resolve();
      };
      this.subscriptions.add(cancel);
      return cancel;
    });
  }

  enqueue(queue: string, payload: Buffer): Promise<void> {
    // Copied for the same reason as published messages: the caller owns its buffer.
    return this.run(() => this.backend.queue(queue).append(Buffer.from(payload)));
  }

  consume(options: ConsumeOptions): QueueConsumer {
    this.assertOpen();
    const group = this.backend.queue(options.queue).group(options.group);
    const consumer = new MemoryConsumer(group, options, this.logger, () =>
      this.consumers.delete(consumer),
    );
    this.consumers.add(consumer);
    return consumer;
  }

  append(stream: string, payload: Buffer, maxLength: number): Promise<void> {
    return this.run(() => this.backend.stream(stream).append(Buffer.from(payload), maxLength));
  }

  openStreamReader(options: StreamReaderOptions): StreamReader {
    this.assertOpen();
    const reader = this.backend.stream(options.stream).reader(options.group, options.consumer);
    return {
      read: (count) => this.run(() => reader.read(count)),
      ack: (ids) => this.run(() => reader.ack(ids)),
    };
  }

  deleteStream(stream: string): Promise<void> {
    return this.run(() => this.backend.deleteStream(stream));
  }

  acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.run(() => this.backend.acquireLease(key, owner, leaseTtl(ttlMs)));
  }

  renewLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.run(() => this.backend.renewLease(key, owner, leaseTtl(ttlMs)));
  }

  releaseLease(key: string, owner: string): Promise<void> {
    return this.run(() => this.backend.releaseLease(key, owner));
  }

  leaseOwners(keys: readonly string[]): Promise<(string | null)[]> {
    return this.run(() => keys.map((key) => this.backend.leaseOwner(key)));
  }

  countInWindow(key: string, windowMs: number, add: boolean): Promise<WindowCount> {
    return this.run(() => this.backend.countInWindow(key, windowMs, add));
  }

  ping(): Promise<void> {
    return this.run(() => undefined);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const unsubscribe of [...this.subscriptions]) void unsubscribe(); // settles at once
    // stop() never rejects: handler failures were already reported through onError.
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  /** Runs `operation` now; a throw (closed, bad ttl) becomes a rejection, as over a network. */
  private run<T>(operation: () => T): Promise<T> {
    return new Promise((resolve) => {
      this.assertOpen();
      resolve(operation());
    });
  }
}

class MemoryConsumer implements QueueConsumer, GroupMember {
  readonly claimIdleMs: number;
  private active = true;
  private stopping: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly group: ConsumerGroup,
    private readonly options: ConsumeOptions,
    private readonly logger: BusLogger,
    private readonly onStopped: () => void,
  ) {
    this.claimIdleMs = options.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS;
    // Items only become claimable as time passes, and capacity may free up without a wake():
    // look again periodically. unref: this timer alone must not keep the process alive.
    this.timer = setInterval(() => this.group.schedule(), claimCheckIntervalMs(this.claimIdleMs));
    this.timer.unref();
    group.join(this);
  }

  wantsWork(): boolean {
    if (!this.active) return false;
    try {
      return this.options.hasCapacity();
    } catch (err) {
      this.report(err);
      return false;
    }
  }

  receive(id: number, payload: Buffer): void {
    const settled: Promise<void> = this.handle(payload).then(() => {
      this.inFlight.delete(settled);
      this.group.ack(id);
    });
    this.inFlight.add(settled);
  }

  wake(): void {
    if (this.active) this.group.schedule();
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.active = false;
    clearInterval(this.timer);
    this.group.leave(this);
    await Promise.all([...this.inFlight]);
    this.onStopped();
  }

  /** Never rejects: a failing handler is reported and its item acknowledged all the same. */
  private async handle(payload: Buffer): Promise<void> {
    try {
      await this.options.handler(payload);
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    reportConsumerError(this.options, this.logger, err);
  }
}
