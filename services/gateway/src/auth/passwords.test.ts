import { describe, expect, it, vi } from 'vitest';
import { checkPassword, hashPassword } from './passwords.js';

describe('checkPassword', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored.startsWith('$argon2id$')).toBe(true);
    await expect(checkPassword('correct horse battery', stored)).resolves.toBe(true);
    await expect(checkPassword('wrong', stored)).resolves.toBe(false);
  });

  it('does the same argon2 work for an unknown user, and refuses', async () => {
    // Timing equality is the point: an unknown username must cost a full verification too.
    const verifier = vi.fn(async (hash: string) => hash.startsWith('$argon2id$'));
    await expect(checkPassword('anything', undefined, verifier)).resolves.toBe(false);
    expect(verifier).toHaveBeenCalledTimes(1);
    expect(verifier.mock.calls[0]![0]).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('refuses a user without a password hash (external identity)', async () => {
    await expect(checkPassword('', null)).resolves.toBe(false);
  });
});
