import { createHash, createHmac, randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import {
  algorithmsFor,
  fingerprintOf,
  hostFieldMatches,
  keyTypeOf,
  parseHostKey,
} from './host-key.js';

// An ssh-ed25519 public key blob: string "ssh-ed25519", then the 32-byte key.
const blob = Buffer.concat([
  Buffer.from([0, 0, 0, 11]),
  Buffer.from('ssh-ed25519'),
  Buffer.from([0, 0, 0, 32]),
  Buffer.alloc(32, 0xab),
]);

// What `ssh-keygen -H` writes for a host name: |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
const hashed = (name: string) => {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};

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

const ED25519_LINE =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOW6LE/0ysLEp3PvEO1hU0B6MzbG24L2LUsbxB7v72ZC root@host';
const RSA_LINE =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQD06TDEnHMi+wF/lWgR37cNxD+yuiVQpSBV7wE86S+AxhqhsxEggebX+ZnMxSDpr34AKNdlXahtcj04AmVjAU/Y7SudjypDfooARWnhIjcyxcKmUyN54pTzD+KwxAR3lP4/A3KC6EI1PR0QKSlz6pEw7OpI19HV8+yQir5VtvdPuy/uVKgH4qSJHrD5FU6WXgTTnSinyKbT8Ry7cN2GMUewTu1xTZymrSAsIX9q1eJBELJ9g2OKZIgBR0f4HMBg7LMGU/IjX8V2ySbPKPjuxRgjRnNJmdjxGDZE83Hdr74QxG8Er5A6qb9ibznlNeVYjQ4fM+Q/VqHBT9KNxXEWzUy3 root@host';

describe('parseHostKey', () => {
  // Public keys as ssh-keygen writes them ("type base64 comment"). Not generated with ssh2:
  // its generator drops a leading zero byte from some ed25519 keys, which then are not keys.
  const lines = { ed25519: ED25519_LINE, rsa: RSA_LINE };
  const fixture = (type: 'ed25519' | 'rsa') => {
    const [keyType, base64] = lines[type].split(' ');
    // `keyscan` is the key as ssh-keyscan prints it after the host: no comment.
    const keyscan = `${keyType} ${base64}`;
    return { line: lines[type], keyscan, keyType, blob: Buffer.from(base64!, 'base64') };
  };

  it.each(['ed25519', 'rsa'] as const)('reads an %s key as a .pub file holds it', (type) => {
    const { line, keyType, blob } = fixture(type);
    expect(parseHostKey(`${line}\n`)).toEqual({ keyType, blob });
  });

  it('reads a line of ssh-keyscan output, and skips its comments', () => {
    const { keyscan, blob } = fixture('ed25519');
    expect(parseHostKey(`# 10.0.0.5:22 SSH-2.0-OpenSSH_9.2\n[10.0.0.5]:2222 ${keyscan}`)).toEqual({
      keyType: 'ssh-ed25519',
      blob,
    });
  });

  it('refuses a line of ssh-keyscan output for another host than the server', () => {
    const { keyscan, blob } = fixture('ed25519');
    const server = { host: '10.0.0.5', port: 2222 };
    expect(parseHostKey(`[10.0.0.5]:2222 ${keyscan}`, server)).toEqual({
      keyType: 'ssh-ed25519',
      blob,
    });
    expect(parseHostKey(`10.0.0.5 ${keyscan}`, server)).toEqual({
      error:
        'is the key of 10.0.0.5, not of [10.0.0.5]:2222 (to pin it anyway, leave out the host)',
    });
    expect(parseHostKey(`[10.0.0.6]:2222 ${keyscan}`, server)).toEqual({
      error: expect.stringMatching(/^is the key of \[10.0.0.6\]:2222, not of \[10.0.0.5\]:2222/),
    });
    // The key alone carries no host, and is pinned as given.
    expect(parseHostKey(keyscan, server)).toEqual({ keyType: 'ssh-ed25519', blob });
  });

  it.each([
    ['::1', 22, '::1', true],
    ['::1', 2222, '[::1]:2222', true],
    ['DB.Example.com', 22, 'db.example.com', true],
    ['db.example.com', 22, '[db.example.com]:22', false],
    ['db.example.com', 22, hashed('db.example.com'), true],
    ['db.example.com', 2222, hashed('db.example.com'), false],
  ])('names %s port %d in a known_hosts line as OpenSSH does (%s: %s)', (host, port, field, ok) => {
    const { keyscan } = fixture('ed25519');
    const parsed = parseHostKey(`${field} ${keyscan}`, { host, port });
    expect('blob' in parsed).toBe(ok);
  });

  it('names a long host field in its refusal only in part', () => {
    const { keyscan } = fixture('ed25519');
    const field = Array.from({ length: 50 }, (_, i) => `host-${i}.example.com`).join(',');
    const parsed = parseHostKey(`${field} ${keyscan}`, { host: 'db.example.com', port: 22 });
    expect(parsed).toEqual({
      error: `is the key of ${field.slice(0, 100)}…, not of db.example.com (to pin it anyway, leave out the host)`,
    });
  });

  it.each([
    ['a private key', () => ssh2.utils.generateKeyPairSync('ed25519').private, /is a private key/],
    ['two keys', () => `${fixture('ed25519').line}\n${fixture('ed25519').line}`, /2 lines/],
    ['nothing but blanks', () => ' \n\t\n', /is empty/],
    ['a key type alone', () => 'ssh-ed25519', /not an SSH public key/],
    ['a key cut short', () => fixture('ed25519').line.slice(0, 40), /not an SSH public key/],
    ['a host certificate', () => HOST_CERTIFICATE, /is a host certificate/],
    [
      'a certificate authority line from known_hosts',
      () => `@cert-authority *.example.com ${fixture('ed25519').line}`,
      /certificate authority's key \(@cert-authority\)/,
    ],
    [
      'a revoked key line from known_hosts',
      () => `@revoked db.example.com ${fixture('ed25519').line}`,
      /is a revoked key \(@revoked\)/,
    ],
  ])('says what is wrong with %s', (_label, text, why) => {
    const parsed = parseHostKey(text());
    expect(parsed).toEqual({ error: expect.stringMatching(why) });
  });
});

describe('hostFieldMatches', () => {
  it.each([
    ['db.example.com', 'db.example.com', true],
    ['DB.Example.com', 'db.example.com', true],
    ['[db.example.com]:2222', '[db.example.com]:2222', true],
    ['db.example.com', '[db.example.com]:2222', false],
    ['web,db.example.com,10.0.0.5', 'db.example.com', true],
    ['*.example.com', 'db.example.com', true],
    ['db?.example.com', 'db1.example.com', true],
    ['*.example.com,!db.example.com', 'db.example.com', false],
    ['*.example.com', 'db.example.org', false],
    ['db.example.com', 'dbxexample.com', false],
    [hashed('[10.0.0.5]:2222'), '[10.0.0.5]:2222', true],
    [hashed('[10.0.0.5]:2222'), '[10.0.0.6]:2222', false],
    // A hashed name stands alone, as OpenSSH reads it: not in a list, and not negated.
    [`web,${hashed('db')}`, 'db', false],
    ['**a*b*c?', 'xxaybzcq', true],
  ])('%s names %s: %s', (field, name, expected) => {
    expect(hostFieldMatches(field, name)).toBe(expected);
  });

  it('answers at once for a pattern of thousands of stars (a regular expression would not)', () => {
    expect(hostFieldMatches(`${'*'.repeat(8000)}x`, 'a'.repeat(100))).toBe(false);
    expect(hostFieldMatches(`${'*a'.repeat(4000)}x`, 'a'.repeat(100))).toBe(false);
  });
});
