import { describe, expect, it } from 'vitest';
import { OutputBatch } from './output-batch.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('OutputBatch', () => {
  it('hands on the chunks of one event-loop turn as one buffer, in order', async () => {
    const emitted: string[] = [];
    const batch = new OutputBatch((chunks) => emitted.push(Buffer.concat(chunks).toString()), 1024);
    batch.add(Buffer.from('a'));
    batch.add(Buffer.from('b'));
    expect(emitted).toEqual([]);
    await nextTurn();
    batch.add(Buffer.from('c'));
    await nextTurn();
    expect(emitted).toEqual(['ab', 'c']);
  });

  it('emits at once what must precede something else, and a batch that reached its size', () => {
    const emitted: string[] = [];
    const batch = new OutputBatch((chunks) => emitted.push(Buffer.concat(chunks).toString()), 4);
    batch.add(Buffer.from('xy'));
    batch.flush();
    batch.add(Buffer.from('1234'));
    batch.add(Buffer.from('5'));
    batch.flush();
    batch.flush();
    expect(emitted).toEqual(['xy', '1234', '5']);
  });
});
