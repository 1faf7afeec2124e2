import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditEventHash, canonicalJson } from './audit.js';

const event = {
  actorId: null,
  actorName: 'alice',
  action: 'login',
  targetType: null,
  targetId: null,
  serverId: null,
  sessionId: null,
  ip: '203.0.113.9',
  details: { z: 1, a: { y: [2, { c: true, b: null }] } },
  at: new Date('2030-01-01T00:00:00.123Z'),
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ f: 1, e: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[{"e":2,"f":1}]},"b":1}',
    );
  });

  it('escapes keys and strings as JSON does', () => {
    expect(canonicalJson({ 'k"ey': 'line\nbreak ü' })).toBe('{"k\\"ey":"line\\nbreak ü"}');
  });
});

describe('auditEventHash', () => {
  it('is sha256 of the previous hash followed by the canonical event', () => {
    const canonical =
      '{"action":"login","actorId":null,"actorName":"alice","at":"2030-01-01T00:00:00.123Z",' +
      '"details":{"a":{"y":[2,{"b":null,"c":true}]},"z":1},"ip":"203.0.113.9","serverId":null,' +
      '"sessionId":null,"targetId":null,"targetType":null}';
    const expected = createHash('sha256').update(`prev${canonical}`).digest('hex');
    expect(auditEventHash('prev', event)).toBe(expected);
  });

  it('does not depend on the key order of details', () => {
    const reordered = { ...event, details: { a: { y: [2, { b: null, c: true }] }, z: 1 } };
    expect(auditEventHash('', reordered)).toBe(auditEventHash('', event));
  });

  it('changes with the previous hash and with any field', () => {
    const base = auditEventHash('', event);
    expect(auditEventHash('x', event)).not.toBe(base);
    expect(auditEventHash('', { ...event, action: 'logout' })).not.toBe(base);
    expect(auditEventHash('', { ...event, at: new Date(event.at.getTime() + 1) })).not.toBe(base);
  });
});
