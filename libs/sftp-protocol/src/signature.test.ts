import { describe, expect, it } from 'vitest';
import { SIGNATURE_WINDOW_MS, signRequest, verifyRequest } from './signature.js';

const secret = 'a-shared-secret-of-at-least-32-characters';
const identity = { userId: 'u-1', username: 'ann', ip: '192.0.2.1', reqId: 'r-1' };
const path = '/v1/servers/s-1/files/download?path=%2Fetc%2Fhosts';
const at = 1_700_000_000_000;

const asRequest = (
  headers: Record<string, string>,
  overrides: { method?: string; path?: string } = {},
) => ({
  method: overrides.method ?? 'GET',
  path: overrides.path ?? path,
  header: (name: string) => headers[name],
});

describe('internal request signatures', () => {
  it('accepts a request the gateway signed, and returns who it is for', () => {
    const headers = signRequest(secret, { method: 'GET', path, identity }, at);
    expect(verifyRequest(secret, asRequest(headers), at + 1000)).toEqual({ ok: true, identity });
  });

  it('refuses an unsigned request', () => {
    expect(verifyRequest(secret, asRequest({}), at)).toEqual({
      ok: false,
      reason: 'the request is not signed',
    });
  });

  it('refuses a changed path, method, identity or secret', () => {
    const headers = signRequest(secret, { method: 'GET', path, identity }, at);
    const other = signRequest(
      secret,
      { method: 'GET', path, identity: { ...identity, userId: 'u-2' } },
      at,
    );
    const bad = { ok: false, reason: 'the request signature is not valid' };
    expect(
      verifyRequest(secret, asRequest(headers, { path: path.replace('hosts', 'shadow') }), at),
    ).toEqual(bad);
    expect(verifyRequest(secret, asRequest(headers, { method: 'PUT' }), at)).toEqual(bad);
    expect(
      verifyRequest(
        secret,
        asRequest({ ...headers, 'x-sallyport-identity': other['x-sallyport-identity']! }),
        at,
      ),
    ).toEqual(bad);
    expect(verifyRequest(`${secret}!`, asRequest(headers), at)).toEqual(bad);
  });

  it('refuses a signature older or newer than the window', () => {
    const headers = signRequest(secret, { method: 'GET', path, identity }, at);
    const expired = { ok: false, reason: 'the request signature has expired' };
    expect(verifyRequest(secret, asRequest(headers), at + SIGNATURE_WINDOW_MS + 1)).toEqual(
      expired,
    );
    expect(verifyRequest(secret, asRequest(headers), at - SIGNATURE_WINDOW_MS - 1)).toEqual(
      expired,
    );
  });
});
