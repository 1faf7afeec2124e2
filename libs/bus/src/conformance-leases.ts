// Conformance: leases (exclusive, owner-checked, expiring keys).
import { expect, it } from 'vitest';
import { eventually, unique, type TransportFixture } from './conformance-support.js';

/** Short enough for real-time polling on Redis; the memory clock is advanced past it. */
const SHORT_TTL_MS = 300;
const LONG_TTL_MS = 60_000;

export function leaseTests(fixture: () => TransportFixture): void {
  it('is exclusive, even towards its own owner', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const key = unique('lease');
    expect(await a.acquireLease(key, 'w1', LONG_TTL_MS)).toBe(true);
    expect(await b.acquireLease(key, 'w2', LONG_TTL_MS)).toBe(false);
    expect(await a.acquireLease(key, 'w1', LONG_TTL_MS)).toBe(false);
    expect(await b.leaseOwners([key])).toEqual(['w1']);
  });

  it('renews only for its owner', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const key = unique('lease');
    await a.acquireLease(key, 'w1', LONG_TTL_MS);
    expect(await b.renewLease(key, 'w2', LONG_TTL_MS)).toBe(false);
    expect(await a.renewLease(key, 'w1', LONG_TTL_MS)).toBe(true);
    expect(await a.renewLease(unique('free'), 'w1', LONG_TTL_MS)).toBe(false);
    expect(await b.leaseOwners([key])).toEqual(['w1']);
  });

  it('releases only for its owner', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const key = unique('lease');
    await a.acquireLease(key, 'w1', LONG_TTL_MS);
    await b.releaseLease(key, 'w2');
    expect(await b.leaseOwners([key])).toEqual(['w1']);
    await a.releaseLease(key, 'w1');
    expect(await b.leaseOwners([key])).toEqual([null]);
    expect(await b.acquireLease(key, 'w2', LONG_TTL_MS)).toBe(true);
    await b.releaseLease(unique('free'), 'w2'); // releasing a free key is not an error
  });

  it('lapses after its ttl, after which another may take it and the old owner cannot renew', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const key = unique('lease');
    expect(await a.acquireLease(key, 'w1', SHORT_TTL_MS)).toBe(true);
    await eventually(() => {
      fixture().advance(100);
      return b.leaseOwners([key]);
    }).toEqual([null]);
    expect(await a.renewLease(key, 'w1', LONG_TTL_MS)).toBe(false);
    expect(await b.acquireLease(key, 'w2', LONG_TTL_MS)).toBe(true);
    await a.releaseLease(key, 'w1');
    expect(await a.leaseOwners([key])).toEqual(['w2']);
  });

  it('is extended by renewing', async () => {
    const t = await fixture().open();
    const [renewed, witness] = [unique('lease'), unique('witness')];
    await t.acquireLease(renewed, 'w1', SHORT_TTL_MS);
    expect(await t.renewLease(renewed, 'w1', LONG_TTL_MS)).toBe(true);
    // A lease taken afterwards with the original ttl shows when that ttl has surely passed.
    await t.acquireLease(witness, 'w1', SHORT_TTL_MS);
    await eventually(() => {
      fixture().advance(100);
      return t.leaseOwners([witness]);
    }).toEqual([null]);
    expect(await t.leaseOwners([renewed])).toEqual(['w1']);
  });

  it('reports the owner of each key, null where free', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const [k1, k2, k3] = [unique('lease'), unique('lease'), unique('lease')];
    await a.acquireLease(k1, 'w1', LONG_TTL_MS);
    await b.acquireLease(k3, 'w2', LONG_TTL_MS);
    expect(await a.leaseOwners([k1, k2, k3])).toEqual(['w1', null, 'w2']);
    expect(await a.leaseOwners([])).toEqual([]);
  });

  it('refuses a ttl that is not a positive number', async () => {
    const t = await fixture().open();
    await expect(t.acquireLease(unique('lease'), 'w1', 0)).rejects.toThrow(RangeError);
    await expect(t.renewLease(unique('lease'), 'w1', -5)).rejects.toThrow(RangeError);
    await expect(t.acquireLease(unique('lease'), 'w1', Number.NaN)).rejects.toThrow(RangeError);
  });
}

/** Fixed-window counters: the primitive behind rate limits shared by replicas. */
export function windowTests(fixture: () => TransportFixture): void {
  it('counts across transports, reads without counting, and resets when the window closes', async () => {
    const [a, b] = [await fixture().open(), await fixture().open()];
    const key = unique('window');
    expect(await a.countInWindow(key, SHORT_TTL_MS, false)).toEqual({ count: 0, resetInMs: 0 });
    expect((await a.countInWindow(key, SHORT_TTL_MS, true)).count).toBe(1);
    const second = await b.countInWindow(key, SHORT_TTL_MS, true);
    expect(second.count).toBe(2);
    expect(second.resetInMs).toBeGreaterThan(0);
    expect(second.resetInMs).toBeLessThanOrEqual(SHORT_TTL_MS);
    expect((await a.countInWindow(key, SHORT_TTL_MS, false)).count).toBe(2);
    await eventually(async () => {
      fixture().advance(100);
      return (await b.countInWindow(key, SHORT_TTL_MS, false)).count;
    }).toBe(0);
    expect((await a.countInWindow(key, SHORT_TTL_MS, true)).count).toBe(1);
  });
}
