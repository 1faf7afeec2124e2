import { describe, expect, it } from 'vitest';
import { isWithin, normalise, refusedShape, withinRoots } from './path-rules.js';

describe('path rules', () => {
  it('refuse "..", NUL and relative paths before asking the target', () => {
    expect(refusedShape('/home/a/../../etc')).toBe('the path must not contain ".."');
    expect(refusedShape('/home/a/..')).toBe('the path must not contain ".."');
    expect(refusedShape('/home/a\0/x')).toBe('the path contains a NUL character');
    expect(refusedShape('etc/passwd')).toBe('the path must be absolute');
    expect(refusedShape('/home/a/..b/c..')).toBeUndefined();
    expect(refusedShape('/home/%2e%2e%2f')).toBeUndefined(); // a real, if odd, file name
  });

  it('normalise separators and dots', () => {
    expect(normalise('/a//b/./c/')).toBe('/a/b/c');
    expect(normalise('/')).toBe('/');
  });

  it('compare with a trailing separator, so a sibling with the same prefix is outside', () => {
    expect(isWithin('/data', '/data')).toBe(true);
    expect(isWithin('/data/x', '/data')).toBe(true);
    expect(isWithin('/data2', '/data')).toBe(false);
    expect(isWithin('/data2/x', '/data/')).toBe(false);
    expect(isWithin('/anything', '/')).toBe(true);
  });

  it('confine to any of several roots, or not at all without roots', () => {
    expect(withinRoots('/srv/b/c', ['/srv/a', '/srv/b'])).toBe(true);
    expect(withinRoots('/srv/c', ['/srv/a', '/srv/b'])).toBe(false);
    expect(withinRoots('/etc', [])).toBe(true);
  });
});
