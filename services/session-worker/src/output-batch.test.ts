import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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

describe('OutputBatch while output streams', () => {
  const STREAM = { holdMs: 2, fromBytes: 4 };
  let emitted: string[];
  let batch: OutputBatch;

  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'],
    });
    emitted = [];
    batch = new OutputBatch((chunks) => emitted.push(Buffer.concat(chunks).toString()), 16, STREAM);
  });
  afterEach(() => vi.useRealTimers());

  const endOfTurn = () => vi.advanceTimersByTime(0);

  it('holds what follows a large batch until holdMs after it, gathering meanwhile', () => {
    batch.add(Buffer.from('large'));
    endOfTurn();
    batch.add(Buffer.from('a'));
    endOfTurn();
    vi.advanceTimersByTime(1);
    batch.add(Buffer.from('b'));
    expect(emitted).toEqual(['large']);
    vi.advanceTimersByTime(1);
    expect(emitted).toEqual(['large', 'ab']);
    // A small batch within holdMs does not end the stream.
    batch.add(Buffer.from('c'));
    endOfTurn();
    expect(emitted).toEqual(['large', 'ab']);
    vi.advanceTimersByTime(2);
    expect(emitted).toEqual(['large', 'ab', 'c']);
  });

  it('goes at the end of the turn again once the stream has paused', () => {
    batch.add(Buffer.from('large'));
    endOfTurn();
    vi.advanceTimersByTime(5);
    batch.add(Buffer.from('x'));
    endOfTurn();
    expect(emitted).toEqual(['large', 'x']);
  });

  it('never holds small output, however often it comes', () => {
    for (const ch of 'xyz') {
      batch.add(Buffer.from(ch));
      endOfTurn();
    }
    expect(emitted).toEqual(['x', 'y', 'z']);
  });

  it('emits a held batch at once when it reaches its size, or when flushed', () => {
    batch.add(Buffer.from('large'));
    endOfTurn();
    batch.add(Buffer.from('0123456789abcdef'));
    expect(emitted).toEqual(['large', '0123456789abcdef']);
    batch.add(Buffer.from('more'));
    batch.flush();
    vi.advanceTimersByTime(10);
    expect(emitted).toEqual(['large', '0123456789abcdef', 'more']);
  });
});
