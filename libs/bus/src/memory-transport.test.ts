import { describe, expect, it } from 'vitest';
import { describeTransportConformance } from './conformance.js';
import { createMemoryBackend } from './memory-backend.js';
import { createMemoryTransport } from './memory-transport.js';
import type { Transport } from './transport.js';

// Real time plus an offset the suite moves forward: timers keep running for real, while lease
// expiry and claim idle times can be fast-forwarded without sleeping.
describeTransportConformance('memory', () => {
  let offset = 0;
  const backend = createMemoryBackend({ clock: () => Date.now() + offset });
  const opened: Transport[] = [];
  return Promise.resolve({
    open: ({ logger } = {}) => {
      const transport = createMemoryTransport(logger ? { backend, logger } : { backend });
      opened.push(transport);
      return Promise.resolve(transport);
    },
    advance: (ms) => {
      offset += ms;
    },
    cleanup: async () => {
      await Promise.all(opened.map((t) => t.close()));
    },
  });
});

describe('memory transport', () => {
  it('expires leases by the injected clock alone', async () => {
    let now = 1_000;
    const transport = createMemoryTransport({ clock: () => now });
    await transport.acquireLease('k', 'w1', 500);
    now += 499;
    expect(await transport.leaseOwners(['k'])).toEqual(['w1']);
    now += 1;
    expect(await transport.leaseOwners(['k'])).toEqual([null]);
    await transport.close();
  });

  it('keeps separate transports without a shared backend apart', async () => {
    const [a, b] = [createMemoryTransport(), createMemoryTransport()];
    await a.acquireLease('k', 'w1', 10_000);
    expect(await b.leaseOwners(['k'])).toEqual([null]);
    await Promise.all([a.close(), b.close()]);
  });

  it('does not let the publisher mutate a message after publish', async () => {
    const transport = createMemoryTransport();
    const received: string[] = [];
    await transport.subscribe('ch', (payload) => received.push(payload.toString()));
    const buffer = Buffer.from('abc');
    const publishing = transport.publish('ch', buffer);
    buffer.write('xyz'); // before delivery: publish() must have copied it
    await publishing;
    await expect.poll(() => received).toEqual(['abc']);
    await transport.close();
  });
});

describe('memory transport claiming', () => {
  it('does not spin when two stuck consumers have no claim idle time at all', async () => {
    const transport = createMemoryTransport();
    const taken: string[] = [];
    let release = (): void => {};
    const stuck = new Promise<void>((resolve) => (release = resolve));
    ['a', 'b'].forEach((consumer) =>
      transport.consume({
        queue: 'q',
        group: 'g',
        consumer,
        claimIdleMs: 0,
        hasCapacity: () => true,
        handler: (payload) => {
          taken.push(`${consumer}:${payload.toString()}`);
          return stuck;
        },
      }),
    );
    await transport.enqueue('q', Buffer.from('x'));
    // Handed back and forth on each periodic check, but the event loop keeps turning.
    await expect.poll(() => taken.length).toBeGreaterThan(2);
    release();
    await transport.close();
  });
});
