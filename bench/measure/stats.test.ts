import { describe, expect, it } from 'vitest';
import { quantile, slope, summarize } from './stats.js';

describe('quantile', () => {
  it('interpolates between the nearest ranks', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(hundred, 0.99)).toBeCloseTo(99.01);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('summarizes with median, p99 and the range', () => {
    expect(summarize([3, 1, 2])).toMatchObject({ n: 3, median: 2, min: 1, max: 3, mean: 2 });
    const many = Array.from({ length: 500_000 }, (_, i) => i % 1000);
    expect(summarize(many)).toMatchObject({ min: 0, max: 999 });
  });
});

describe('slope', () => {
  it('is the least-squares growth per session', () => {
    const points = [0, 250, 500, 750, 1000].map((sessions) => ({
      sessions,
      rss: 100 + sessions * 2,
    }));
    expect(slope(points, (p) => p.rss)).toBeCloseTo(2);
    expect(slope([{ sessions: 0, rss: 1 }], (p) => p.rss)).toBeNaN();
  });
});
