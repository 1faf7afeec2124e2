import { describe, expect, it } from 'vitest';
import { parseCidrList } from '@sallyport/config';
import { TargetPolicy } from './target-policy.js';

// IP literals only: a unit test resolves no names.
const defaults = parseCidrList('169.254.0.0/16, fe80::/10, 100.100.100.200/32, fd00:ec2::254/128');

describe('TargetPolicy', () => {
  it('denies cloud metadata and link-local addresses by default', async () => {
    const policy = new TargetPolicy({ deny: defaults });
    for (const host of ['169.254.169.254', 'fe80::1', '100.100.100.200', 'fd00:ec2::254']) {
      await expect(policy.check(host)).resolves.toMatchObject({
        ok: false,
        reason: 'target_denied',
      });
    }
  });

  it('allows ordinary and loopback addresses by default, and connects to the checked address', async () => {
    const policy = new TargetPolicy({ deny: defaults });
    await expect(policy.check('127.0.0.1')).resolves.toEqual({ ok: true, address: '127.0.0.1' });
    await expect(policy.check('192.0.2.10')).resolves.toEqual({ ok: true, address: '192.0.2.10' });
  });

  it('with an allow list, refuses everything outside it', async () => {
    const policy = new TargetPolicy({ deny: defaults, allow: parseCidrList('10.0.0.0/8') });
    await expect(policy.check('10.1.2.3')).resolves.toMatchObject({ ok: true });
    await expect(policy.check('192.0.2.10')).resolves.toMatchObject({
      ok: false,
      reason: 'target_denied',
      message: 'connections to 192.0.2.10 (192.0.2.10) are not allowed by the target policy',
    });
  });

  it('lets the deny list win inside an allowed range', async () => {
    const policy = new TargetPolicy({
      deny: parseCidrList('10.9.0.0/16'),
      allow: parseCidrList('10.0.0.0/8'),
    });
    await expect(policy.check('10.9.1.1')).resolves.toMatchObject({ ok: false });
  });
});
