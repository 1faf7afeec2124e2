import { createHash, createHmac } from 'node:crypto';
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
 * The name known_hosts files give a host: "host" on port 22, "[host]:port" elsewhere, in lower
 * case as OpenSSH looks it up (hashed names are hashes of that).
 */
const knownHostsName = (host: string, port: number): string =>
  port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;

/**
 * Whether the host field of a known_hosts line ("a,[b]:2222,!c,*.example.com", or one hashed
 * name "|1|salt|hash") names `name`, as OpenSSH matches it: patterns with * and ?, any of them
 * matching unless a negated one does.
 */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedNameMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** "|1|base64(salt)|base64(HMAC-SHA1(salt, name))", as `ssh-keygen -H` writes it. */
function hashedNameMatches(field: string, name: string): boolean {
  const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(field);
  if (!hashed) return false;
  const salt = Buffer.from(hashed[1]!, 'base64');
  return createHmac('sha1', salt).update(name).digest('base64') === hashed[2];
}

/**
 * `*` and `?` globbing, ignoring case. It goes back only to the last `*`, so it takes at most
 * pattern × name steps: a regular expression built from a pasted pattern of many stars could
 * hold the gateway's event loop for minutes.
 */
function globMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  let pi = 0;
  let ni = 0;
  let star = -1; // the last `*` seen in the pattern, and where in the name it started to match
  let starFrom = 0;
  while (ni < n.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === n[ni])) {
      pi++;
      ni++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      starFrom = ni;
    } else if (star >= 0) {
      pi = star + 1; // let the last `*` take one more character
      ni = ++starFrom;
    } else return false;
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** A host field as a refusal names it: hashed names say nothing, and long lists are cut short. */
function hostsNamed(field: string): string {
  if (field.startsWith('|')) return 'another host (its name is hashed)';
  return field.length > 100 ? `${field.slice(0, 100)}…` : field;
}

/**
 * A host's public key as an admin pastes it: an OpenSSH public key line ("ssh-ed25519 AAAA…
 * comment", as in /etc/ssh/ssh_host_ed25519_key.pub), or one line of `ssh-keyscan` or
 * known_hosts output (the host comes first there), which must then name `forHost` when given.
 * Says what is wrong otherwise.
 */
export function parseHostKey(
  text: string,
  forHost?: { host: string; port: number },
): ParsedHostKey {
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
  // known_hosts markers: neither line is a key this host can be pinned to.
  if (words[0] === '@cert-authority')
    return {
      error: "is a certificate authority's key (@cert-authority); give the host's own key",
    };
  if (words[0] === '@revoked') return { error: 'is a revoked key (@revoked), one never to trust' };
  // From the first word (a public key line), or the second (a host name before it).
  for (const start of [0, 1]) {
    const key = ssh2.utils.parseKey(words.slice(start).join(' '));
    if (key instanceof Error) continue;
    if (key.isPrivateKey()) break;
    // ssh2 reads a certificate's nonce as the key: pinning it would pin a key nobody has.
    if (key.type.includes('-cert-'))
      return { error: "is a host certificate; give the host's own key (its .pub file)" };
    if (start === 1 && forHost) {
      const name = knownHostsName(forHost.host, forHost.port);
      if (!hostFieldMatches(words[0]!, name)) {
        return {
          error: `is the key of ${hostsNamed(words[0]!)}, not of ${name} (to pin it anyway, leave out the host)`,
        };
      }
    }
    const blob = key.getPublicSSH();
    return { keyType: keyTypeOf(blob), blob };
  }
  return { error: 'is not an SSH public key ("ssh-ed25519 AAAA…", as in a .pub file)' };
}
