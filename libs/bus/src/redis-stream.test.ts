import { describe, expect, it } from 'vitest';
import { parsePending, parseReadReply, parseStreamEntries } from './redis-stream.js';

const b = (s: string) => Buffer.from(s);

describe('redis stream replies', () => {
  const entries = [
    [b('1-0'), [b('d'), b('one')]],
    [b('2-0'), [b('x'), b('y'), b('d'), b('two')]],
  ];
  const expected = [
    { id: '1-0', payload: b('one') },
    { id: '2-0', payload: b('two') },
  ];

  it('reads XREADGROUP in RESP2 shape', () => {
    expect(parseReadReply([[b('sp:q'), entries]])).toEqual(expected);
  });

  it('reads XREADGROUP in flattened RESP3 shape', () => {
    expect(parseReadReply([b('sp:q'), entries])).toEqual(expected);
  });

  it('reads a timeout and nonsense as nothing', () => {
    expect(parseReadReply(null)).toEqual([]);
    expect(parseReadReply('OK')).toEqual([]);
    expect(parseReadReply([])).toEqual([]);
  });

  it('keeps an entry without payload, so it can be acknowledged', () => {
    expect(parseStreamEntries([[b('3-0'), null]])).toEqual([{ id: '3-0', payload: undefined }]);
  });

  it('reads XPENDING rows', () => {
    expect(parsePending([['1-0', 'worker-a', 1200, 1]])).toEqual([
      { id: '1-0', consumer: 'worker-a' },
    ]);
  });
});
