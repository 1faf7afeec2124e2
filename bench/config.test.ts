import { describe, expect, it } from 'vitest';
import { parseArgs, UsageRequested } from './config.js';

describe('parseArgs', () => {
  it('gives the full run by default and a smaller one with --quick', () => {
    const full = parseArgs([]);
    expect(full).toMatchObject({
      quick: false,
      rounds: 5,
      warmupRound: true,
      bulkInputBytes: 50_000_000,
    });
    expect(full.idle.sessions).toBe(1000);
    const quick = parseArgs(['--quick', '--sessions', '20', '--only', 'echo,idle']);
    expect(quick.quick).toBe(true);
    expect(quick.idle.sessions).toBe(20);
    expect([...quick.scenarios]).toEqual(['echo', 'idle']);
    expect(parseArgs(['--no-warmup']).warmupRound).toBe(false);
  });

  it('leaves the warm-up round out of --quick, and the embedded row unless named', () => {
    expect(parseArgs([]).contenders).toEqual(['direct', 'distributed', 'embedded']);
    const quick = parseArgs(['--quick']);
    expect(quick.warmupRound).toBe(false);
    expect(quick.contenders).toEqual(['direct', 'distributed']);
    expect(parseArgs(['--quick', '--contenders', 'embedded,direct']).contenders).toEqual([
      'embedded',
      'direct',
    ]);
  });

  it('refuses what it does not know, naming it', () => {
    expect(() => parseArgs(['--rounds', '0'])).toThrow(/--rounds must be a positive integer/);
    expect(() => parseArgs(['--only', 'echo,typing'])).toThrow(/unknown typing/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseArgs(['--help'])).toThrow(UsageRequested);
  });
});
