import { describe, expect, it } from 'vitest';
import { Keyring, generateKey, keyIdOf, parseKey } from './keyring.js';

describe('Keyring', () => {
  const key = generateKey();

  it('round-trips a secret and never stores it in the clear', () => {
    const ring = new Keyring(key);
    const box = ring.encrypt('hunter2-password', 'server:1:secret');
    expect(box).not.toContain('hunter2');
    expect(box.split('.')[1]).toBe(keyIdOf(key));
    expect(ring.decrypt(box, 'server:1:secret')).toBe('hunter2-password');
  });

  it('refuses a tampered ciphertext', () => {
    const ring = new Keyring(key);
    const parts = ring.encrypt('secret', 'ctx').split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => ring.decrypt(parts.join('.'), 'ctx')).toThrow(/integrity/);
  });

  it('refuses a ciphertext moved to another context', () => {
    const ring = new Keyring(key);
    expect(() =>
      ring.decrypt(ring.encrypt('secret', 'server:1:secret'), 'server:2:secret'),
    ).toThrow(/integrity/);
  });

  it('decrypts under a previous key after rotation and says it needs rotating', () => {
    const old = new Keyring(key);
    const box = old.encrypt('secret', 'ctx');
    const rotated = new Keyring(generateKey(), [key]);
    expect(rotated.decrypt(box, 'ctx')).toBe('secret');
    expect(rotated.needsRotation(box)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt('secret', 'ctx'))).toBe(false);
  });

  it('names the missing key id when a key was removed', () => {
    const box = new Keyring(key).encrypt('secret', 'ctx');
    expect(() => new Keyring(generateKey()).decrypt(box, 'ctx')).toThrow(keyIdOf(key));
  });

  it('parses base64 and hex keys and refuses wrong lengths', () => {
    expect(parseKey(key.toString('base64')).equals(key)).toBe(true);
    expect(parseKey(key.toString('hex')).equals(key)).toBe(true);
    expect(() => parseKey('c2hvcnQ=')).toThrow(/32 bytes/);
  });

  it('derives a stable key per purpose and key id, distinct from the key itself', () => {
    const ring = new Keyring(generateKey(), [key]);
    const derived = ring.deriveKey('recording:1');
    expect(derived).toHaveLength(32);
    expect(ring.deriveKey('recording:1').equals(derived)).toBe(true);
    expect(ring.deriveKey('recording:2').equals(derived)).toBe(false);
    expect(ring.deriveKey('recording:1', keyIdOf(key)).equals(derived)).toBe(false);
    expect(
      new Keyring(key).deriveKey('recording:1').equals(ring.deriveKey('recording:1', keyIdOf(key))),
    ).toBe(true);
    expect(() => ring.deriveKey('recording:1', 'deadbeef')).toThrow(/deadbeef/);
  });
});
