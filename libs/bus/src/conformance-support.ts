// Helpers for the transport conformance suite. Test code, compiled with the library only so
// that `tsc -b` type-checks it; nothing in the public surface imports it.
import { expect } from 'vitest';
import type { BusLogger } from './logger.js';
import type { ConsumeOptions, QueueConsumer, Transport } from './transport.js';

/** One backend (a Redis server, or a shared MemoryBackend) and the transports opened on it. */
export interface TransportFixture {
  /** A new transport on the shared backend: one more "process". cleanup() closes it. */
  open(options?: { logger?: BusLogger }): Promise<Transport>;
  /**
   * Lets `ms` pass for time-based behaviour (lease expiry, claim idle time). A transport on an
   * injected clock moves the clock; on real time it does nothing, as time passes while polling.
   */
  advance(ms: number): void;
  /** Closes every transport opened and removes whatever they left in the backend. */
  cleanup(): Promise<void>;
}

export type FixtureFactory = () => Promise<TransportFixture>;

/** Polls until the assertion holds: never a fixed sleep. */
export function eventually<T>(
  read: () => T | Promise<T>,
  timeout = 5_000,
): ReturnType<typeof expect.poll<T>> {
  return expect.poll(read, { timeout, interval: 20 });
}

/** A logger that keeps what it is told, so expected failures do not clutter the output. */
export function recordingLogger(): BusLogger & { entries: { level: string; msg?: string }[] } {
  const entries: { level: string; msg?: string }[] = [];
  return {
    entries,
    warn: (_obj, msg) => entries.push({ level: 'warn', msg }),
    error: (_obj, msg) => entries.push({ level: 'error', msg }),
  };
}

export function collector() {
  const received: Buffer[] = [];
  return {
    received,
    texts: () => received.map((b) => b.toString()),
    onMessage: (payload: Buffer) => {
      received.push(payload);
    },
  };
}

export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A consumer that records what it handled; `capacity` is a switch the test flips. */
export function recordingConsumer(
  transport: Transport,
  options: Partial<ConsumeOptions> & Pick<ConsumeOptions, 'queue' | 'group' | 'consumer'>,
) {
  const handled: string[] = [];
  const state = { capacity: true };
  const consumer: QueueConsumer = transport.consume({
    handler: (payload) => {
      handled.push(payload.toString());
      return Promise.resolve();
    },
    hasCapacity: () => state.capacity,
    ...options,
  });
  return { consumer, handled, state };
}

/** A name no other test on the same backend uses. */
export function unique(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Every byte value, a few times over, so framing bugs at any offset show. */
export function allBytes(): Buffer {
  const one = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return Buffer.concat([one, Buffer.from(one).reverse(), one]);
}

/** Resolves after pending I/O callbacks and immediates: lets an asynchronous step happen. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
