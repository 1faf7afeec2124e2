import { describe, expect, it } from 'vitest';
import { withUtcSessions } from './client.js';

describe('withUtcSessions', () => {
  it('adds a TimeZone=UTC startup option', () => {
    const url = new URL(
      withUtcSessions('postgresql://sp:p%40ss@db:5432/sallyport?sslmode=require'),
    );
    expect(url.searchParams.get('options')).toBe('-c TimeZone=UTC');
    expect(url.searchParams.get('sslmode')).toBe('require');
    expect(url.password).toBe('p%40ss');
  });

  it('keeps options already in the URL', () => {
    const url = new URL(
      withUtcSessions('postgresql://db/sp?options=-c%20statement_timeout%3D5000'),
    );
    expect(url.searchParams.get('options')).toBe('-c statement_timeout=5000 -c TimeZone=UTC');
  });
});
