import { describe, expect, it } from 'vitest';
import { AckMap } from './ack-map.js';

describe('AckMap', () => {
  it('turns acknowledged socket bytes into the stream offset of the last complete frame', () => {
    const acks = new AckMap();
    acks.sent(500, 1_000); // a snapshot covering the stream up to 1000
    acks.sent(100, 1_100);
    acks.sent(100, 1_200);
    expect(acks.ack(450)).toBeUndefined(); // inside the snapshot
    expect(acks.ack(650)).toBe(1_100); // snapshot and one frame, half of the next
    expect(acks.unacked).toBe(50);
    expect(acks.caughtUp).toBe(false);
    expect(acks.completed).toBe(1_100);
    expect(acks.ack(700)).toBe(1_200);
    expect(acks.caughtUp).toBe(true);
    expect(acks.completed).toBe(1_200);
  });

  it('ignores an ack for more than was sent, and one that goes backwards', () => {
    const acks = new AckMap();
    acks.sent(100, 100);
    expect(acks.ack(10_000)).toBe(100);
    acks.sent(100, 200);
    expect(acks.ack(50)).toBeUndefined();
    expect(acks.unacked).toBe(100);
    expect(acks.completed).toBe(100);
  });
});
