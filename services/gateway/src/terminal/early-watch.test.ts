import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createMemoryTransport, SessionBus, type SessionMessage } from '@sallyport/bus';
import { EarlyWatch } from './early-watch.js';

const ACCEPTED: SessionMessage = { type: 'accepted', workerId: 'worker-1' };

/** A bus whose subscriptions report when they are ended. */
function watchedBus() {
  const bus = new SessionBus(createMemoryTransport());
  const unsubscribed = vi.fn();
  const watch = bus.watch.bind(bus);
  vi.spyOn(bus, 'watch').mockImplementation(async (sessionId, onMessage) => {
    const unsubscribe = await watch(sessionId, onMessage);
    return async () => {
      unsubscribed(sessionId);
      await unsubscribe();
    };
  });
  return { bus, unsubscribed };
}

describe('EarlyWatch', () => {
  it('hands the session to the socket that takes it, with everything published from then on', async () => {
    const { bus, unsubscribed } = watchedBus();
    const early = new EarlyWatch(bus, randomUUID());
    const received: SessionMessage[] = [];
    const unsubscribe = await early.take((msg) => received.push(msg));
    await bus.publish(early.sessionId, ACCEPTED);
    expect(received).toEqual([ACCEPTED]);

    early.cancel(); // the socket's now: the socket's end unsubscribes, not this
    await bus.publish(early.sessionId, ACCEPTED);
    expect(received).toHaveLength(2);
    expect(unsubscribed).not.toHaveBeenCalled();
    await unsubscribe();
    expect(unsubscribed).toHaveBeenCalledWith(early.sessionId);
  });

  it('unsubscribes when the socket is refused or gone before taking it, and cannot be taken then', async () => {
    const { bus, unsubscribed } = watchedBus();
    const early = new EarlyWatch(bus, randomUUID());
    early.cancel();
    early.cancel();
    await vi.waitFor(() => expect(unsubscribed).toHaveBeenCalledOnce());
    await expect(early.take(() => undefined)).rejects.toThrow('the subscription was cancelled');
  });

  it('gives a failed subscription to whoever takes it, and cancels one quietly', async () => {
    const bus = new SessionBus(createMemoryTransport());
    vi.spyOn(bus, 'watch').mockRejectedValue(new Error('Redis is unreachable'));
    const taken = new EarlyWatch(bus, randomUUID());
    await expect(taken.take(() => undefined)).rejects.toThrow('Redis is unreachable');
    // A failure that comes before anyone takes or cancels the subscription is not left unhandled
    // (vitest fails a test on an unhandled rejection).
    const cancelled = new EarlyWatch(bus, randomUUID());
    await new Promise((resolve) => setImmediate(resolve));
    cancelled.cancel();
  });
});
