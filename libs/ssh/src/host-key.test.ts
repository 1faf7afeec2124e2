import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { algorithmsFor, fingerprintOf, keyTypeOf } from './host-key.js';

// An ssh-ed25519 public key blob: string "ssh-ed25519", then the 32-byte key.
const blob = Buffer.concat([
  Buffer.from([0, 0, 0, 11]),
  Buffer.from('ssh-ed25519'),
  Buffer.from([0, 0, 0, 32]),
  Buffer.alloc(32, 0xab),
]);

describe('host keys', () => {
  it('fingerprints as OpenSSH does: SHA256 and unpadded base64', () => {
    const expected = createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
    expect(fingerprintOf(blob)).toBe(`SHA256:${expected}`);
    expect(fingerprintOf(blob)).not.toContain('=');
  });

  it('reads the key type from the blob', () => {
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
  });

  it('asks for the pinned key type first, with RSA under its signature algorithms', () => {
    expect(algorithmsFor('ssh-ed25519')).toEqual(['ssh-ed25519']);
    expect(algorithmsFor('ssh-rsa')).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  });
});
