import { describe, expect, it } from 'vitest';
import type { RecordingRequest } from '@sallyport/bus';
import { CastEncoder, castHeader, completeUtf8Length, initialCastState } from './cast.js';
import { castEvents, castLines, castText, searchCast } from './cast-reader.js';

const request: RecordingRequest = {
  sessionId: 's',
  userId: 'u',
  username: 'ann',
  serverId: 'srv',
  serverName: 'db-1',
  cols: 100,
  rows: 30,
  startedAt: 1_000_000,
  mode: 'best_effort',
  recordInput: true,
};

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

describe('CastEncoder', () => {
  it('writes output, resizes and attributed input with times from the start', () => {
    const cast = new CastEncoder(request.startedAt, initialCastState());
    const lines = [
      castHeader(request),
      ...cast.encode({ type: 'output', seq: 1, at: 1_000_500, data: Buffer.from('hi\r\n') }).lines,
      ...cast.encode({ type: 'resize', seq: 2, at: 1_001_000, cols: 120, rows: 40 }).lines,
      ...cast.encode({
        type: 'input',
        at: 1_001_250,
        userId: 'u2',
        username: 'bob',
        data: Buffer.from('ls\r'),
      }).lines,
    ];
    expect(JSON.parse(lines[0]!)).toMatchObject({
      version: 2,
      width: 100,
      height: 30,
      timestamp: 1000,
    });
    expect(lines.slice(1).map((l) => JSON.parse(l))).toEqual([
      [0.5, 'o', 'hi\r\n'],
      [1, 'r', '120x40'],
      [1.25, 'm', 'input by bob (u2)'],
      [1.25, 'i', 'ls\r'],
    ]);
  });

  it('carries a UTF-8 sequence split between chunks, and drops redelivered events', () => {
    const cast = new CastEncoder(0, initialCastState());
    const euro = Buffer.from('a€b');
    expect(cast.encode({ type: 'output', seq: 1, at: 0, data: euro.subarray(0, 2) }).lines).toEqual(
      ['[0,"o","a"]'],
    );
    expect(cast.encode({ type: 'output', seq: 1, at: 0, data: euro.subarray(0, 2) }).lines).toEqual(
      [],
    );
    expect(cast.encode({ type: 'output', seq: 2, at: 1, data: euro.subarray(2) }).lines).toEqual([
      '[0.001,"o","€b"]',
    ]);
  });

  it('marks events that never arrived as a gap, and keeps time from going backwards', () => {
    const cast = new CastEncoder(0, initialCastState());
    cast.encode({ type: 'output', seq: 1, at: 2_000, data: Buffer.from('x') });
    const { lines, missing } = cast.encode({
      type: 'output',
      seq: 5,
      at: 1_000,
      data: Buffer.from('y'),
    });
    expect(missing).toBe(3);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      [2, 'm', 'gap: 3 events were lost'],
      [2, 'o', 'y'],
    ]);
  });

  it('finds where a UTF-8 sequence is incomplete', () => {
    expect(completeUtf8Length(Buffer.from('ab'))).toBe(2);
    expect(completeUtf8Length(Buffer.from('a€').subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(Buffer.from('😀').subarray(0, 3))).toBe(0);
    expect(completeUtf8Length(Buffer.from([0x61, 0xff]))).toBe(2);
  });
});

describe('reading a cast', () => {
  const cast = [
    '{"version":2,"width":80,"height":24}',
    '[0.1,"o","$ echo \\u001b[1mNeedle\\u001b[0m\\r\\n"]',
    '[0.2,"i","x"]',
    '[1.5,"o","nee"]',
    '[1.75,"o","dle in a haystack\\r\\n"]',
  ].join('\n');

  it('splits lines across chunk boundaries and gives plain text', async () => {
    const chunks = [Buffer.from(cast.slice(0, 50)), Buffer.from(cast.slice(50))];
    const text: string[] = [];
    for await (const t of castText(castEvents(castLines(from(chunks))))) text.push(t);
    expect(text.join('')).toBe('$ echo Needle\nneedle in a haystack\n');
  });

  it('finds every appearance, case-insensitively, also one split between events', async () => {
    const hits = await searchCast(castEvents(castLines(from([Buffer.from(cast)]))), 'needle', 10);
    expect(hits).toEqual([
      { time: 0.1, context: '$ echo Needle' },
      { time: 1.75, context: 'needle' },
    ]);
    expect(
      await searchCast(castEvents(castLines(from([Buffer.from(cast)]))), 'needle', 1),
    ).toHaveLength(1);
  });
});
