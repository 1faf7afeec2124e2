import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../tests/harness/redis.js';
import { retainedBytesPer } from '../../../tests/support/heap.js';
import { describeTransportConformance } from './conformance.js';
import {
  collector,
  eventually,
  recordingConsumer,
  recordingLogger,
  unique,
  type TransportFixture,
} from './conformance-support.js';
import type { BusLogger } from './logger.js';
import { createRedisTransport } from './redis-transport.js';
import type { Transport } from './transport.js';

/** Transports on the shared test Redis, under a prefix of their own; its keys go afterwards. */
function redisFixture(): TransportFixture & { prefix: string } {
  const prefix = uniquePrefix();
  const opened: Transport[] = [];
  return {
    prefix,
    open: ({ logger }: { logger?: BusLogger } = {}) => {
      const transport = createRedisTransport({
        url: REDIS_URL,
        prefix,
        ...(logger ? { logger } : {}),
      });
      opened.push(transport);
      return Promise.resolve(transport);
    },
    advance: () => {}, // real time: it passes while the suite polls
    cleanup: async () => {
      await Promise.all(opened.map((t) => t.close()));
      await cleanupPrefix(prefix);
    },
  };
}

describeTransportConformance('redis', () => Promise.resolve(redisFixture()));

describe('redis transport', () => {
  let admin: Redis;
  let fixture: ReturnType<typeof redisFixture>;

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    fixture = redisFixture();
  });
  afterEach(async () => {
    await fixture.cleanup();
  });

  /** Kills the connections named `name`: the transports of one fixture share a prefix. */
  async function killConnections(name: string): Promise<void> {
    const list = String(await admin.client('LIST'));
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /\bid=(\d+)/.exec(line)?.[1] ?? '');
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await admin.client('KILL', 'ID', id);
  }

  it('resubscribes every channel after its subscriber connection is killed', async () => {
    const logger = recordingLogger();
    const [t, publisher] = [await fixture.open({ logger }), await fixture.open()];
    const channels = [unique('ch'), unique('ch')];
    const subs = [collector(), collector()];
    await t.subscribe(channels[0]!, subs[0]!.onMessage);
    await t.subscribe(channels[1]!, subs[1]!.onMessage);

    await killConnections(`${fixture.prefix}bus-sub`);

    // Messages published while it reconnects are lost (at most once), so keep publishing.
    await eventually(async () => {
      await publisher.publish(channels[0]!, Buffer.from('ping'));
      await publisher.publish(channels[1]!, Buffer.from('ping'));
      return subs.map((s) => s.received.length > 0);
    }).toEqual([true, true]);
  });

  it('keeps a consumer reading after its blocking connection is killed', async () => {
    const logger = recordingLogger();
    const t = await fixture.open({ logger });
    const queue = unique('q');
    const reader = recordingConsumer(t, {
      queue,
      group: 'g',
      consumer: 'c1',
      onError: () => {}, // the interrupted read may fail once; that is expected here
    });
    await t.enqueue(queue, Buffer.from('before'));
    await eventually(() => reader.handled).toEqual(['before']);

    await killConnections(`${fixture.prefix}bus-read:c1`);
    await t.enqueue(queue, Buffer.from('after'));
    await eventually(() => reader.handled).toEqual(['before', 'after']);
  });

  it('recreates its group when the stream vanishes (Redis restarted empty)', async () => {
    const t = await fixture.open();
    const queue = unique('q');
    const reader = recordingConsumer(t, {
      queue,
      group: 'g',
      consumer: 'c1',
      onError: () => {}, // the read that finds the stream gone fails once; expected here
    });
    await t.enqueue(queue, Buffer.from('before'));
    await eventually(() => reader.handled).toEqual(['before']);

    await admin.del(`${fixture.prefix}${queue}`);
    await t.enqueue(queue, Buffer.from('after'));
    await eventually(() => reader.handled).toEqual(['before', 'after']);
  });

  it('keeps publishing and taking leases after its command connection is killed', async () => {
    const logger = recordingLogger();
    const [t, listener] = [await fixture.open({ logger }), await fixture.open()];
    const channel = unique('ch');
    const sub = collector();
    await listener.subscribe(channel, sub.onMessage);

    await killConnections(`${fixture.prefix}bus-cmd`);

    await t.publish(channel, Buffer.from('after kill'));
    expect(await t.acquireLease(unique('lease'), 'w1', 10_000)).toBe(true);
    await eventually(() => sub.texts()).toEqual(['after kill']);
    await eventually(() => t.ping().then(() => 'ok')).toBe('ok');
  });

  it('keeps no memory for the messages it has published', async () => {
    const [t, listener] = [await fixture.open(), await fixture.open()];
    const channel = unique('ch');
    let received = 0;
    await listener.subscribe(channel, () => received++);
    const payload = Buffer.alloc(40);
    await t.publish(channel, payload); // connections and code warmed up before measuring
    const perPublish = await retainedBytesPer(20_000, async () => {
      for (let i = 0; i < 20_000; i++) await t.publish(channel, payload);
    });
    // A gateway publishes every keystroke and a worker every burst of output, for weeks; each
    // publish kept ~300 bytes when commands were raced against the transport's end with
    // Promise.race.
    expect(perPublish).toBeLessThan(30);
    await eventually(() => received).toBe(20_001);
  });

  it('puts every key and channel under its prefix', async () => {
    const t = await fixture.open();
    const channel = unique('ch');
    await t.subscribe(channel, () => {});
    await t.enqueue('q', Buffer.from('x'));
    await t.acquireLease('lease', 'w1', 10_000);
    const keys = await admin.keys(`${fixture.prefix}*`);
    expect(keys.sort()).toEqual([`${fixture.prefix}lease`, `${fixture.prefix}q`]);
    expect(await admin.pubsub('CHANNELS', `${fixture.prefix}*`)).toEqual([
      `${fixture.prefix}${channel}`,
    ]);
  });

  it('survives an unreachable Redis: fails ping at once and closes promptly', async () => {
    const logger = recordingLogger();
    // Port 1: nothing listens, so every connection attempt is refused.
    const t = createRedisTransport({ url: 'redis://127.0.0.1:1', prefix: fixture.prefix, logger });
    t.consume({
      queue: 'q',
      group: 'g',
      consumer: 'c',
      hasCapacity: () => true,
      handler: () => Promise.resolve(),
      onError: () => {},
    });
    const publishing = t.publish('ch', Buffer.from('x')); // queued while reconnecting
    await eventually(() => logger.entries.some((e) => /connection failed/.test(e.msg ?? ''))).toBe(
      true,
    );
    await expect(t.ping()).rejects.toThrow(/redis connection is reconnecting/);
    const closing = Date.now();
    await t.close();
    // The consumer's shutdown grace (1 s) bounds it; without it close() would hang for good.
    expect(Date.now() - closing).toBeLessThan(3_000);
    await expect(publishing).rejects.toThrow(/closed/);
  });
});
