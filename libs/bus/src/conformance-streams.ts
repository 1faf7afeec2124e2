// Conformance: streams read in order with acknowledgement (Transport.append/openStreamReader).
import { expect, it } from 'vitest';
import { allBytes, unique, type TransportFixture } from './conformance-support.js';
import type { StreamReader } from './transport.js';

const texts = (entries: { payload: Buffer }[]) => entries.map((e) => e.payload.toString());

/** Everything the reader has now, in reads of `count`. */
async function drain(reader: StreamReader, count = 3): Promise<{ id: string; payload: Buffer }[]> {
  const all: { id: string; payload: Buffer }[] = [];
  for (;;) {
    const batch = await reader.read(count);
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

export function streamTests(fixture: () => TransportFixture): void {
  it('gives a reader every entry in order, across transports, and nothing twice once acknowledged', async () => {
    const [writer, other] = [await fixture().open(), await fixture().open()];
    const stream = unique('st');
    const reader = other.openStreamReader({ stream, group: 'g', consumer: 'r1' });
    expect(await reader.read(10)).toEqual([]);
    const sent = Array.from({ length: 20 }, (_, i) => `e${i}`);
    for (const text of sent) await writer.append(stream, Buffer.from(text), 1_000);
    const got = await drain(reader);
    expect(texts(got)).toEqual(sent);
    await reader.ack(got.map((e) => e.id));
    expect(await reader.read(10)).toEqual([]);

    // A new reader of the same group starts after what was acknowledged.
    await writer.append(stream, Buffer.from('later'), 1_000);
    const next = writer.openStreamReader({ stream, group: 'g', consumer: 'r2' });
    expect(texts(await drain(next))).toEqual(['later']);
  });

  it('hands a new reader the entries a dead one never acknowledged, oldest first, then new ones', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const stream = unique('st');
    for (const text of ['1', '2', '3', '4']) await a.append(stream, Buffer.from(text), 1_000);
    const dead = a.openStreamReader({ stream, group: 'g', consumer: 'dead' });
    const taken = await dead.read(3);
    await dead.ack([taken[0]!.id]); // only the first was dealt with before it "died"

    await a.append(stream, Buffer.from('5'), 1_000);
    const successor = b.openStreamReader({ stream, group: 'g', consumer: 'successor' });
    const got = await drain(successor, 2);
    expect(texts(got)).toEqual(['2', '3', '4', '5']);
    await successor.ack(got.map((e) => e.id));
    const third = b.openStreamReader({ stream, group: 'g', consumer: 'third' });
    expect(await third.read(10)).toEqual([]);
  });

  it('keeps groups apart, and carries every byte value', async () => {
    const t = await fixture().open();
    const stream = unique('st');
    await t.append(stream, allBytes(), 1_000);
    await t.append(stream, Buffer.alloc(0), 1_000);
    for (const group of ['g1', 'g2']) {
      const got = await drain(t.openStreamReader({ stream, group, consumer: 'c' }));
      expect(got.map((e) => e.payload.toString('hex'))).toEqual([allBytes().toString('hex'), '']);
    }
  });

  it('keeps about the newest maxLength entries, and deleteStream removes them all', async () => {
    const t = await fixture().open();
    const stream = unique('st');
    for (let i = 0; i < 2_000; i++) await t.append(stream, Buffer.from(String(i)), 100);
    const kept = texts(await drain(t.openStreamReader({ stream, group: 'g', consumer: 'c' }), 500));
    // Approximate trimming, as Redis's MAXLEN ~: at least maxLength, far fewer than appended.
    expect(kept.length).toBeGreaterThanOrEqual(100);
    expect(kept.length).toBeLessThan(1_000);
    expect(kept.at(-1)).toBe('1999');
    expect(kept.map(Number)).toEqual([...kept.map(Number)].sort((x, y) => x - y));

    await t.deleteStream(stream);
    const fresh = t.openStreamReader({ stream, group: 'g2', consumer: 'c' });
    expect(await fresh.read(10)).toEqual([]);
  });
}
