import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from './memory-backend.js';
import { createMemoryTransport } from './memory-transport.js';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  const setup = () => {
    let now = 1_000_000;
    const backend = createMemoryBackend({ clock: () => now });
    // Two limiters on one backend: two replicas sharing the bus.
    const a = new RateLimiter(createMemoryTransport({ backend }));
    const b = new RateLimiter(createMemoryTransport({ backend }));
    return { a, b, advance: (ms: number) => (now += ms) };
  };
  const limit = { limit: 3, windowMs: 60_000 };

  it('counts events from every replica against one limit', async () => {
    const { a, b } = setup();
    expect(await a.hit('k', limit)).toEqual({ allowed: true });
    expect(await b.hit('k', limit)).toEqual({ allowed: true });
    expect(await a.hit('k', limit)).toEqual({ allowed: true });
    expect(await b.hit('k', limit)).toEqual({ allowed: false, retryAfterMs: 60_000 });
  });

  it('checks without counting', async () => {
    const { a, b } = setup();
    for (let i = 0; i < 5; i++) expect(await a.check('k', limit)).toEqual({ allowed: true });
    await a.hit('k', limit);
    await a.hit('k', limit);
    expect(await b.check('k', limit)).toEqual({ allowed: true });
    await a.hit('k', limit);
    expect(await b.check('k', limit)).toMatchObject({ allowed: false });
  });

  it('opens a new window when the old one closes, and says when that will be', async () => {
    const { a, advance } = setup();
    for (let i = 0; i < 3; i++) await a.hit('k', limit);
    advance(45_000);
    expect(await a.check('k', limit)).toEqual({ allowed: false, retryAfterMs: 15_000 });
    advance(15_000);
    expect(await a.hit('k', limit)).toEqual({ allowed: true });
  });

  it('keeps keys apart', async () => {
    const { a } = setup();
    for (let i = 0; i < 3; i++) await a.hit('alice', limit);
    expect(await a.hit('bob', limit)).toEqual({ allowed: true });
  });
});
