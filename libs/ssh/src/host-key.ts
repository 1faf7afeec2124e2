import { createHash } from 'node:crypto';

/** OpenSSH's fingerprint of a host key blob: "SHA256:" + unpadded base64 of its sha256. */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type named at the start of an SSH public key blob, e.g. "ssh-ed25519". */
export function keyTypeOf(keyBlob: Buffer): string {
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.toString('latin1', 4, 4 + length);
}

/**
 * The host-key algorithms to offer first, so that a host whose key type is pinned presents
 * that key rather than another of its keys (which would look like a changed key).
 */
export function algorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}
