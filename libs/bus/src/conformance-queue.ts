// Conformance: the durable work queue with consumer groups.
import { expect, it } from 'vitest';
import {
  deferred,
  eventually,
  recordingConsumer,
  recordingLogger,
  turn,
  unique,
  type TransportFixture,
} from './conformance-support.js';

export function queueTests(fixture: () => TransportFixture): void {
  it('gives each item to exactly one consumer of a group', async () => {
    const [a, b, producer] = [
      await fixture().open(),
      await fixture().open(),
      await fixture().open(),
    ];
    const queue = unique('q');
    const one = recordingConsumer(a, { queue, group: 'g', consumer: 'one' });
    const two = recordingConsumer(b, { queue, group: 'g', consumer: 'two' });
    const items = Array.from({ length: 30 }, (_, i) => `item${i}`);
    for (const item of items) await producer.enqueue(queue, Buffer.from(item));
    await eventually(() => one.handled.length + two.handled.length).toBe(items.length);
    expect([...one.handled, ...two.handled].sort()).toEqual([...items].sort());
  });

  it('gives every group every item', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const queue = unique('q');
    const first = recordingConsumer(a, { queue, group: 'g1', consumer: 'c' });
    const second = recordingConsumer(b, { queue, group: 'g2', consumer: 'c' });
    for (const item of ['x', 'y', 'z']) await a.enqueue(queue, Buffer.from(item));
    await eventually(() => first.handled).toEqual(['x', 'y', 'z']);
    await eventually(() => second.handled).toEqual(['x', 'y', 'z']);
  });

  it('serves items enqueued before the group had any consumer', async () => {
    const t = await fixture().open();
    const queue = unique('q');
    await t.enqueue(queue, Buffer.from('early'));
    const late = recordingConsumer(t, { queue, group: 'g', consumer: 'c' });
    await eventually(() => late.handled).toEqual(['early']);
  });

  it('leaves work to consumers with capacity, and wake() resumes one that had none', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const queue = unique('q');
    // A long claim idle time also makes the periodic capacity re-check slow: only wake() can
    // explain the full consumer resuming within the poll's timeout.
    const claimIdleMs = 60_000;
    const full = recordingConsumer(a, { queue, group: 'g', consumer: 'full', claimIdleMs });
    full.state.capacity = false;
    const free = recordingConsumer(b, { queue, group: 'g', consumer: 'free', claimIdleMs });
    for (const item of ['1', '2', '3']) await a.enqueue(queue, Buffer.from(item));
    await eventually(() => free.handled).toEqual(['1', '2', '3']);
    expect(full.handled).toEqual([]);

    await free.consumer.stop();
    await a.enqueue(queue, Buffer.from('4'));
    full.state.capacity = true;
    full.consumer.wake();
    await eventually(() => full.handled, 2_500).toEqual(['4']);
  });

  it('lets another consumer claim an item whose handler never settled, after claimIdleMs', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const queue = unique('q');
    const claimIdleMs = 300;
    const stuck = deferred();
    const taken: string[] = [];
    const dead = a.consume({
      queue,
      group: 'g',
      consumer: 'dead',
      claimIdleMs,
      hasCapacity: () => true, // room to spare: it must still not re-take its own stuck item
      handler: async (payload) => {
        taken.push(payload.toString());
        await stuck.promise; // the process "died" holding the item
      },
    });
    try {
      const rescuer = recordingConsumer(b, { queue, group: 'g', consumer: 'rescuer', claimIdleMs });
      rescuer.state.capacity = false; // so the item surely goes to `dead` first
      await a.enqueue(queue, Buffer.from('job'));
      await eventually(() => taken).toEqual(['job']);
      rescuer.state.capacity = true;
      rescuer.consumer.wake();
      await eventually(() => {
        fixture().advance(100);
        return rescuer.handled;
      }).toEqual(['job']);
    } finally {
      stuck.resolve();
      await dead.stop();
    }
  });

  it('reports a failing handler, acknowledges its item and carries on', async () => {
    const logger = recordingLogger();
    const t = await fixture().open({ logger });
    const queue = unique('q');
    const errors: unknown[] = [];
    const handled: string[] = [];
    t.consume({
      queue,
      group: 'g',
      consumer: 'c',
      hasCapacity: () => true,
      onError: (err) => errors.push(err),
      handler: (payload) => {
        const text = payload.toString();
        handled.push(text);
        if (text === 'throws') throw new Error('handler threw');
        return text === 'rejects'
          ? Promise.reject(new Error('handler rejected'))
          : Promise.resolve();
      },
    });
    for (const item of ['throws', 'rejects', 'good']) await t.enqueue(queue, Buffer.from(item));
    await eventually(() => handled).toEqual(['throws', 'rejects', 'good']);
    await eventually(() => errors.map(String)).toEqual([
      'Error: handler threw',
      'Error: handler rejected',
    ]);
  });

  it('stop() waits for in-flight handlers, is idempotent, and ends reading', async () => {
    const t = await fixture().open();
    const queue = unique('q');
    const release = deferred();
    const handled: string[] = [];
    const consumer = t.consume({
      queue,
      group: 'g',
      consumer: 'c',
      hasCapacity: () => true,
      handler: async (payload) => {
        handled.push(payload.toString());
        await release.promise;
      },
    });
    await t.enqueue(queue, Buffer.from('slow'));
    await eventually(() => handled).toEqual(['slow']);

    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    expect(consumer.stop()).toBe(consumer.stop());
    await turn();
    expect(stopped).toBe(false);
    release.resolve();
    await stopping;

    // A stopped consumer reads nothing more; a new one in its group gets the item.
    await t.enqueue(queue, Buffer.from('next'));
    const successor = recordingConsumer(t, { queue, group: 'g', consumer: 'successor' });
    await eventually(() => successor.handled).toEqual(['next']);
    expect(handled).toEqual(['slow']);
  });
}
