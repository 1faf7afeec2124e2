// The state a Redis server would hold, kept in this process. Several memory transports may
// share one backend, the way several processes share one Redis: tests use that to model
// "another replica", and embedded mode gives every service module the same one.
import { MemoryQueue } from './memory-queue.js';
import { MemoryStream } from './memory-stream.js';

export interface MemoryBackendOptions {
  /** Epoch ms used for lease expiry and claim idle times. Tests inject one they can advance. */
  clock?: () => number;
}

interface Lease {
  readonly owner: string;
  expiresAt: number;
}

type Delivery = (payload: Buffer) => void;

// Expired leases and windows nobody touches again would pile up; sweep them every so many uses.
const SWEEP_EVERY = 256;

export class MemoryBackend {
  readonly clock: () => number;
  private readonly channels = new Map<string, Set<Delivery>>();
  private readonly queues = new Map<string, MemoryQueue>();
  private readonly streams = new Map<string, MemoryStream>();
  private readonly leases = new Map<string, Lease>();
  private readonly windows = new Map<string, { count: number; closesAt: number }>();
  private acquisitions = 0;

  constructor(options: MemoryBackendOptions = {}) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Delivers on the microtask queue, in publication order, never inside publish(). One copy per
   * message: the publisher may reuse its buffer once publish() resolves, as it may with Redis.
   */
  publish(channel: string, payload: Buffer): void {
    const deliveries = this.channels.get(channel);
    if (!deliveries || deliveries.size === 0) return;
    const copy = Buffer.from(payload);
    for (const deliver of deliveries) queueMicrotask(() => deliver(copy));
  }

  /** `deliver` must not throw: it runs as a bare microtask. Returns the remover. */
  subscribe(channel: string, deliver: Delivery): () => void {
    let deliveries = this.channels.get(channel);
    if (!deliveries) {
      deliveries = new Set();
      this.channels.set(channel, deliveries);
    }
    deliveries.add(deliver);
    return () => {
      deliveries.delete(deliver);
      if (deliveries.size === 0 && this.channels.get(channel) === deliveries) {
        this.channels.delete(channel);
      }
    };
  }

  queue(name: string): MemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new MemoryQueue(this.clock);
      this.queues.set(name, queue);
    }
    return queue;
  }

  stream(name: string): MemoryStream {
    let stream = this.streams.get(name);
    if (!stream) {
      stream = new MemoryStream();
      this.streams.set(name, stream);
    }
    return stream;
  }

  deleteStream(name: string): void {
    this.streams.delete(name);
  }

  acquireLease(key: string, owner: string, ttlMs: number): boolean {
    if (++this.acquisitions % SWEEP_EVERY === 0) this.sweepExpired();
    if (this.liveLease(key)) return false;
    this.leases.set(key, { owner, expiresAt: this.clock() + ttlMs });
    return true;
  }

  renewLease(key: string, owner: string, ttlMs: number): boolean {
    const lease = this.liveLease(key);
    if (lease?.owner !== owner) return false;
    lease.expiresAt = this.clock() + ttlMs;
    return true;
  }

  releaseLease(key: string, owner: string): void {
    if (this.liveLease(key)?.owner === owner) this.leases.delete(key);
  }

  leaseOwner(key: string): string | null {
    return this.liveLease(key)?.owner ?? null;
  }

  countInWindow(key: string, windowMs: number, add: boolean): { count: number; resetInMs: number } {
    if (++this.acquisitions % SWEEP_EVERY === 0) this.sweepExpired();
    const now = this.clock();
    let window = this.windows.get(key);
    if (window && window.closesAt <= now) {
      this.windows.delete(key);
      window = undefined;
    }
    if (add) {
      window ??= { count: 0, closesAt: now + windowMs };
      window.count += 1;
      this.windows.set(key, window);
    }
    return window
      ? { count: window.count, resetInMs: window.closesAt - now }
      : { count: 0, resetInMs: 0 };
  }

  /** Expiry is evaluated lazily, on access, against the injected clock. */
  private liveLease(key: string): Lease | undefined {
    const lease = this.leases.get(key);
    if (lease && lease.expiresAt <= this.clock()) {
      this.leases.delete(key);
      return undefined;
    }
    return lease;
  }

  private sweepExpired(): void {
    const now = this.clock();
    for (const [key, window] of this.windows) {
      if (window.closesAt <= now) this.windows.delete(key);
    }
    for (const [key, lease] of this.leases) {
      if (lease.expiresAt <= now) this.leases.delete(key);
    }
  }
}

export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  return new MemoryBackend(options);
}
