import { describe, expect, it } from 'vitest';
import { AckMap } from './ack-map.js';

describe('AckMap', () => {
  it('turns acknowledged socket bytes into the stream offset of the last complete frame', () => {
    const acks = new AckMap();
    acks.sent(500, 1_000); // a snapshot covering the stream up to 1000
    acks.sent(100, 1_100);
    acks.sent(100, 1_200);
    acks.ack(450); // inside the snapshot
    expect(acks.completed).toBe(0);
    acks.ack(650); // snapshot and one frame, half of the next
    expect(acks.completed).toBe(1_100);
    expect(acks.unacked).toBe(50);
    expect(acks.caughtUp).toBe(false);
    acks.ack(700);
    expect(acks.completed).toBe(1_200);
    expect(acks.caughtUp).toBe(true);
  });

  it('ignores an ack for more than was sent, and one that goes backwards', () => {
    const acks = new AckMap();
    acks.sent(100, 100);
    acks.ack(10_000);
    expect(acks.completed).toBe(100);
    acks.sent(100, 200);
    acks.ack(50);
    expect(acks.completed).toBe(100);
    expect(acks.unacked).toBe(100);
  });
});
