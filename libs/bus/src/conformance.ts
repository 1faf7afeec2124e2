// The one test suite every Transport passes (as Socket.IO runs one adapter suite against
// every Redis flavour). memory-transport.test.ts runs it in-process; redis-transport.int.test.ts
// against a real Redis. Transports opened on one fixture share a backend, so a test can play
// several processes. Time-based checks poll and call fixture.advance(), never sleep.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  allBytes,
  collector,
  eventually,
  recordingLogger,
  turn,
  unique,
  type FixtureFactory,
  type TransportFixture,
} from './conformance-support.js';
import { leaseTests, windowTests } from './conformance-leases.js';
import { queueTests } from './conformance-queue.js';
import { sessionBusTests } from './conformance-session-bus.js';
import { streamTests } from './conformance-streams.js';

export type { FixtureFactory, TransportFixture } from './conformance-support.js';

export function describeTransportConformance(name: string, makeFixture: FixtureFactory): void {
  describe(`${name} transport conformance`, () => {
    let fixture: TransportFixture | undefined;
    const current = (): TransportFixture => {
      if (!fixture) throw new Error('no fixture: used outside a test');
      return fixture;
    };
    beforeEach(async () => {
      fixture = await makeFixture();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    describe('publish/subscribe', () => pubSubTests(current));
    describe('work queue', () => queueTests(current));
    describe('streams', () => streamTests(current));
    describe('leases', () => leaseTests(current));
    describe('window counters', () => windowTests(current));
    describe('lifecycle', () => lifecycleTests(current));
    describe('SessionBus', () => sessionBusTests(current));
  });
}

function pubSubTests(fixture: () => TransportFixture): void {
  it('delivers messages to a subscriber on another transport, in order', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const channel = unique('ch');
    const sub = collector();
    await b.subscribe(channel, sub.onMessage);
    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const text of sent) await a.publish(channel, Buffer.from(text));
    await eventually(() => sub.received.length).toBe(sent.length);
    expect(sub.texts()).toEqual(sent);
  });

  it('fans out to every subscriber on every transport', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const channel = unique('ch');
    const subs = [collector(), collector(), collector(), collector()];
    await a.subscribe(channel, subs[0]!.onMessage);
    await a.subscribe(channel, subs[1]!.onMessage); // a second listener on the same transport
    await b.subscribe(channel, subs[2]!.onMessage);
    await b.subscribe(unique('other'), subs[3]!.onMessage);
    await a.publish(channel, Buffer.from('one'));
    await b.publish(channel, Buffer.from('two'));
    for (const sub of subs.slice(0, 3)) {
      await eventually(() => sub.texts()).toEqual(['one', 'two']);
    }
    expect(subs[3]!.received).toEqual([]);
  });

  it('delivers every byte value and empty payloads intact', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const channel = unique('ch');
    const sub = collector();
    await b.subscribe(channel, sub.onMessage);
    const payloads = [allBytes(), Buffer.alloc(0), Buffer.from([0xff, 0xfe, 0x00, 0xc3])];
    for (const payload of payloads) await a.publish(channel, payload);
    await eventually(() => sub.received.length).toBe(payloads.length);
    expect(sub.received.map((b) => b.toString('hex'))).toEqual(
      payloads.map((p) => p.toString('hex')),
    );
  });

  it('delivers only what was published after subscribe resolved, and never inside publish', async () => {
    const t = await fixture().open();
    const channel = unique('ch');
    const sub = collector();
    await t.publish(channel, Buffer.from('before'));
    await t.subscribe(channel, sub.onMessage);
    const publishing = t.publish(channel, Buffer.from('after'));
    const seenDuringPublishCall = sub.received.length;
    await publishing;
    expect(seenDuringPublishCall).toBe(0);
    await eventually(() => sub.texts()).toEqual(['after']);
  });

  it('stops delivery on unsubscribe, leaving other subscribers of the channel alone', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const channel = unique('ch');
    const [gone, stays, elsewhere] = [collector(), collector(), collector()];
    const unsubscribe = await b.subscribe(channel, gone.onMessage);
    await b.subscribe(channel, stays.onMessage);
    await a.subscribe(channel, elsewhere.onMessage);
    await a.publish(channel, Buffer.from('1'));
    await eventually(() => gone.texts()).toEqual(['1']);
    await unsubscribe();
    await unsubscribe(); // idempotent
    await a.publish(channel, Buffer.from('2'));
    await eventually(() => stays.texts()).toEqual(['1', '2']);
    await eventually(() => elsewhere.texts()).toEqual(['1', '2']);
    expect(gone.texts()).toEqual(['1']);
  });

  it('resumes a channel subscribed again after its last subscriber left', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const channel = unique('ch');
    const first = collector();
    const second = collector();
    const unsubscribe = await b.subscribe(channel, first.onMessage);
    // Unsubscribe and subscribe back to back: the transport must end up subscribed.
    const leaving = unsubscribe();
    const joining = b.subscribe(channel, second.onMessage);
    await leaving;
    await joining;
    await a.publish(channel, Buffer.from('x'));
    await eventually(() => second.texts()).toEqual(['x']);
    expect(first.received).toEqual([]);
  });

  it('keeps delivering to others when a subscriber throws', async () => {
    const logger = recordingLogger();
    const [a, b] = [await fixture().open(), await fixture().open({ logger })];
    const channel = unique('ch');
    const sub = collector();
    await b.subscribe(channel, () => {
      throw new Error('subscriber bug');
    });
    await b.subscribe(channel, sub.onMessage);
    await a.publish(channel, Buffer.from('1'));
    await a.publish(channel, Buffer.from('2'));
    await eventually(() => sub.texts()).toEqual(['1', '2']);
    expect(logger.entries.filter((e) => e.level === 'error')).toHaveLength(2);
  });
}

function lifecycleTests(fixture: () => TransportFixture): void {
  it('answers ping while open', async () => {
    const t = await fixture().open();
    await expect(t.ping()).resolves.toBeUndefined();
  });

  it('close() is idempotent, ends subscriptions and consumers, and refuses later calls', async () => {
    const [t, other] = [await fixture().open(), await fixture().open()];
    const channel = unique('ch');
    const [closedSub, liveSub] = [collector(), collector()];
    await t.subscribe(channel, closedSub.onMessage);
    await other.subscribe(channel, liveSub.onMessage);
    const handled: string[] = [];
    t.consume({
      queue: unique('q'),
      group: 'g',
      consumer: 'c',
      hasCapacity: () => true,
      handler: (payload) => {
        handled.push(payload.toString());
        return Promise.resolve();
      },
    });

    await Promise.all([t.close(), t.close()]);
    await t.close();

    await other.publish(channel, Buffer.from('after close'));
    await eventually(() => liveSub.texts()).toEqual(['after close']);
    await turn();
    expect(closedSub.received).toEqual([]);
    await expect(t.publish(channel, Buffer.from('x'))).rejects.toThrow(/closed/);
    await expect(t.subscribe(channel, () => {})).rejects.toThrow(/closed/);
    await expect(t.enqueue('q', Buffer.from('x'))).rejects.toThrow(/closed/);
    await expect(t.acquireLease('k', 'o', 1_000)).rejects.toThrow(/closed/);
    await expect(t.ping()).rejects.toThrow(/closed/);
    expect(() =>
      t.consume({
        queue: 'q',
        group: 'g',
        consumer: 'c',
        hasCapacity: () => true,
        handler: () => Promise.resolve(),
      }),
    ).toThrow(/closed/);
  });
}
