import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';

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

export type ParsedHostKey = { keyType: string; blob: Buffer } | { error: string };

/**
 * A host's public key as an admin pastes it: an OpenSSH public key line ("ssh-ed25519 AAAA…
 * comment", as in /etc/ssh/ssh_host_ed25519_key.pub), or one line of `ssh-keyscan` or
 * known_hosts output (the host comes first there). Says what is wrong otherwise.
 */
export function parseHostKey(text: string): ParsedHostKey {
  if (text.includes('PRIVATE KEY'))
    return { error: "is a private key; give the host's public key (its .pub file)" };
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) return { error: "is empty; give the host's public key" };
  if (lines.length > 1)
    return {
      error: `holds ${lines.length} lines; give one key (ssh-keyscan -t ed25519 prints one)`,
    };
  const words = lines[0]!.split(/\s+/);
  // From the first word (a public key line), or the second (a host name before it).
  for (const start of [0, 1]) {
    const key = ssh2.utils.parseKey(words.slice(start).join(' '));
    if (key instanceof Error) continue;
    if (key.isPrivateKey()) break;
    // ssh2 reads a certificate's nonce as the key: pinning it would pin a key nobody has.
    if (key.type.includes('-cert-'))
      return { error: "is a host certificate; give the host's own key (its .pub file)" };
    const blob = key.getPublicSSH();
    return { keyType: keyTypeOf(blob), blob };
  }
  return { error: 'is not an SSH public key ("ssh-ed25519 AAAA…", as in a .pub file)' };
}
