import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpListener } from '../../../tests/harness/processes.js';
import { HeadStarts } from './head-starts.js';

let listener: Awaited<ReturnType<typeof tcpListener>>;
beforeAll(async () => {
  listener = await tcpListener();
});
afterAll(() => listener.close());

describe('HeadStarts', () => {
  it('starts no connection for a server it has not seen connected', () => {
    expect(new HeadStarts({ capacity: 10, paceReads: false }).start('server-a')).toBeUndefined();
  });

  it('connects to where the server last went, until told it goes nowhere', async () => {
    const headStarts = new HeadStarts({ capacity: 10, paceReads: false });
    headStarts.note('server-a', { address: '127.0.0.1', port: listener.port });
    const before = listener.accepted.length;
    const headStart = headStarts.start('server-a');
    expect(headStart?.goesTo('127.0.0.1', listener.port)).toBe(true);
    await expect.poll(() => listener.accepted.length).toBe(before + 1);
    headStart?.discard();
    headStarts.note('server-a', null);
    expect(headStarts.start('server-a')).toBeUndefined();
  });

  it('keeps the servers last used when it is full', () => {
    const headStarts = new HeadStarts({ capacity: 2, paceReads: false });
    const closedPort = { address: '127.0.0.1', port: 1 };
    headStarts.note('a', closedPort);
    headStarts.note('b', closedPort);
    headStarts.note('a', closedPort); // used again: now the last used
    headStarts.note('c', closedPort);
    const started = ['a', 'b', 'c'].map((id) => headStarts.start(id));
    expect(started.map((s) => s !== undefined)).toEqual([true, false, true]);
    for (const headStart of started) headStart?.discard();
  });

  it('tells once what became of each head start', () => {
    const outcomes: string[] = [];
    const headStarts = new HeadStarts({
      capacity: 10,
      paceReads: false,
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    headStarts.note('server-a', { address: '127.0.0.1', port: listener.port });
    const used = headStarts.start('server-a')!;
    used.handOver();
    used.socket.destroy();
    const discarded = headStarts.start('server-a')!;
    discarded.discard();
    discarded.discard();
    expect(outcomes).toEqual(['used', 'discarded']);
  });
});
