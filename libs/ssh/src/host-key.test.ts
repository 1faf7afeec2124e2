import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { algorithmsFor, fingerprintOf, keyTypeOf, parseHostKey } from './host-key.js';

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

// An ed25519 host certificate (ssh-keygen -s ca -h), as sshd's HostCertificate file holds one.
const HOST_CERTIFICATE =
  'ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIBl6ucue6vzuv+u4Og0cIyu/eRRehf1UC54OMWgW7yCPAAAAINEqvm+FrdqwsviMKGB21gwl77+Q2zp1eqQr21PmsQGWAAAAAAAAAAAAAAACAAAABm15aG9zdAAAAAoAAAAGbXlob3N0AAAAAAAAAAD//////////wAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgjcaPYZzNXLQUFovAVT/hFKMfrD6ZZvQsLwIAcaZw5lEAAABTAAAAC3NzaC1lZDI1NTE5AAAAQNWqV/lF3q8c25dllGeCofKb96eLxRIpJkh7MdqQaO0+Z/9GPhQKNXY6ltiW7aZmDkb54vuseKx32uz99Kl03wA= root@vm';

describe('parseHostKey', () => {
  // Real keys, as OpenSSH writes them: the public one a line ("type base64 comment").
  const keyPair = (type: 'ed25519' | 'rsa') => {
    const pair =
      type === 'rsa'
        ? ssh2.utils.generateKeyPairSync('rsa', { bits: 2048, comment: 'root@host' })
        : ssh2.utils.generateKeyPairSync('ed25519', { comment: 'root@host' });
    const [keyType, base64] = pair.public.split(' ');
    return { pem: pair.private, line: pair.public, keyType, blob: Buffer.from(base64!, 'base64') };
  };

  it.each(['ed25519', 'rsa'] as const)('reads an %s key as a .pub file holds it', (type) => {
    const { line, keyType, blob } = keyPair(type);
    expect(parseHostKey(`${line}\n`)).toEqual({ keyType, blob });
  });

  it('reads a line of ssh-keyscan output, and skips its comments', () => {
    const { line, blob } = keyPair('ed25519');
    const keyscan = line.split(' ').slice(0, 2).join(' ');
    expect(parseHostKey(`# 10.0.0.5:22 SSH-2.0-OpenSSH_9.2\n[10.0.0.5]:2222 ${keyscan}`)).toEqual({
      keyType: 'ssh-ed25519',
      blob,
    });
  });

  it.each([
    ['a private key', () => keyPair('ed25519').pem, /is a private key/],
    ['two keys', () => `${keyPair('ed25519').line}\n${keyPair('ed25519').line}`, /2 lines/],
    ['nothing but blanks', () => ' \n\t\n', /is empty/],
    ['a key type alone', () => 'ssh-ed25519', /not an SSH public key/],
    ['a key cut short', () => keyPair('ed25519').line.slice(0, 40), /not an SSH public key/],
    ['a host certificate', () => HOST_CERTIFICATE, /is a host certificate/],
  ])('says what is wrong with %s', (_label, text, why) => {
    const parsed = parseHostKey(text());
    expect(parsed).toEqual({ error: expect.stringMatching(why) });
  });
});
