import { describe, expect, it } from 'vitest';
import {
  decodeInputMessage,
  decodeOpenRequest,
  decodeRecordEvent,
  decodeSessionMessage,
  encodeInputMessage,
  encodeOpenRequest,
  encodeRecordEvent,
  encodeSessionMessage,
  type InputMessage,
  type OpenRequest,
  type RecordEvent,
  type SessionMessage,
} from './messages.js';

const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('session messages', () => {
  it.each<SessionMessage>([
    { type: 'output', seq: 0, offset: 0, data: everyByte },
    { type: 'output', seq: 1, offset: 256, data: Buffer.alloc(0) },
    { type: 'output', seq: Number.MAX_SAFE_INTEGER, offset: 2 ** 40, data: Buffer.from('\x1b[2J') },
    { type: 'accepted', workerId: 'worker-1' },
    { type: 'ready', hostKeyFingerprint: 'SHA256:xyz', hostKeyPinned: false },
    {
      type: 'ended',
      reason: 'worker_lost',
      message: 'lease lapsed',
      exitCode: null,
      exitSignal: null,
    },
    { type: 'ended', reason: 'exit', message: '', exitCode: 137, exitSignal: 'KILL' },
  ])('round-trips $type', (msg) => {
    expect(decodeSessionMessage(encodeSessionMessage(msg))).toEqual(msg);
  });

  it('frames output as a tag, the seq and offset as doubles, and the raw bytes', () => {
    const encoded = encodeSessionMessage({
      type: 'output',
      seq: 42,
      offset: 7,
      data: Buffer.from('hi'),
    });
    expect(encoded.length).toBe(1 + 8 + 8 + 2);
    expect(encoded[0]).toBe(1);
    expect(encoded.readDoubleBE(1)).toBe(42);
    expect(encoded.readDoubleBE(9)).toBe(7);
    expect(encoded.subarray(17).toString()).toBe('hi');
  });

  it('refuses an unknown tag and an empty buffer', () => {
    expect(() => decodeSessionMessage(Buffer.from([9, 1, 2]))).toThrow(/unknown bus message tag 9/);
    expect(() => decodeSessionMessage(Buffer.alloc(0))).toThrow(/unknown bus message tag/);
  });
});

describe('input messages', () => {
  it.each<InputMessage>([
    { type: 'input', userId: 'user-1', data: everyByte },
    { type: 'input', userId: 'ünïcødé-用户', data: Buffer.from([0]) },
    { type: 'input', userId: '', data: Buffer.alloc(0) },
    { type: 'input', userId: 'u'.repeat(255), data: Buffer.from('x') },
    { type: 'resize', userId: 'user-1', cols: 200, rows: 50 },
    { type: 'close', userId: 'user-1' },
  ])('round-trips $type', (msg) => {
    expect(decodeInputMessage(encodeInputMessage(msg))).toEqual(msg);
  });

  it('refuses a user id longer than its one-byte length field', () => {
    const msg: InputMessage = { type: 'input', userId: 'u'.repeat(256), data: Buffer.alloc(1) };
    expect(() => encodeInputMessage(msg)).toThrow(RangeError);
  });

  it('does not confuse input bytes with the JSON tag', () => {
    const msg: InputMessage = { type: 'input', userId: 'u', data: Buffer.from([3, 123, 125]) };
    expect(decodeInputMessage(encodeInputMessage(msg))).toEqual(msg);
  });
});

describe('open requests', () => {
  it('round-trip', () => {
    const req: OpenRequest = {
      sessionId: 'sess-1',
      kind: 'test',
      userId: 'user-1',
      username: 'alice',
      serverId: 'server-1',
      attachId: 'attach-1',
      clientIp: '203.0.113.7',
      cols: 80,
      rows: 24,
      deadline: 1_700_000_000_000,
    };
    expect(decodeOpenRequest(encodeOpenRequest(req))).toEqual(req);
  });
});

describe('record events', () => {
  it.each<RecordEvent>([
    { type: 'output', seq: 7, at: 1_763_800_000_123, data: everyByte },
    { type: 'output', seq: 8, at: 1, data: Buffer.alloc(0) },
    { type: 'resize', seq: 9, at: 2, cols: 120, rows: 40 },
    { type: 'input', at: 3, userId: 'u-1', username: 'bö', data: everyByte },
    { type: 'end', at: 4, reason: 'exit', message: 'the shell exited with code 0' },
  ])('round-trips $type', (event) => {
    expect(decodeRecordEvent(encodeRecordEvent(event))).toEqual(event);
  });
});
