import type { KnownHost, PrismaClient } from '@sallyport/db';
import { fingerprintOf, keyTypeOf } from './host-key.js';

export type HostKeyVerdict =
  | { kind: 'match'; fingerprint: string }
  | { kind: 'pinned'; fingerprint: string } // first use: now pinned
  | { kind: 'unknown'; fingerprint: string } // strict policy: not pinned, refused
  | {
      kind: 'mismatch';
      fingerprint: string;
      keyType: string;
      pinnedFingerprint: string;
      pinnedKeyType: string;
    };

/** Host keys pinned per host and port in the database (trust on first use, or strict). */
export class KnownHosts {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly policy: 'tofu' | 'strict',
  ) {}

  /**
   * The key pinned for a host, read once per connection while its TCP connection is made: the
   * handshake asks for that key type first, and checks the key presented against it without
   * another round trip in the middle. The query starts at the call (a Prisma query on its own
   * would wait until awaited), so a caller can start it and await it later.
   */
  async pinned(host: string, port: number): Promise<KnownHost | null> {
    return await this.prisma.knownHost.findUnique({ where: { host_port: { host, port } } });
  }

  /** Checks a presented key against `pinned` (as `pinned()` gave it), pinning it on first use. */
  async verify(
    host: string,
    port: number,
    keyBlob: Buffer,
    pinned: KnownHost | null,
  ): Promise<HostKeyVerdict> {
    const fingerprint = fingerprintOf(keyBlob);
    if (pinned) {
      return pinned.fingerprint === fingerprint
        ? { kind: 'match', fingerprint }
        : {
            kind: 'mismatch',
            fingerprint,
            keyType: keyTypeOf(keyBlob),
            pinnedFingerprint: pinned.fingerprint,
            pinnedKeyType: pinned.keyType,
          };
    }
    if (this.policy === 'strict') return { kind: 'unknown', fingerprint };
    // Two sessions may meet a new host at once; the unique (host, port) row makes one win and
    // the other compares against it.
    try {
      await this.prisma.knownHost.create({
        data: {
          host,
          port,
          keyType: keyTypeOf(keyBlob),
          fingerprint,
          publicKey: keyBlob.toString('base64'),
        },
      });
      return { kind: 'pinned', fingerprint };
    } catch (err) {
      if ((err as { code?: string }).code !== 'P2002') throw err;
      return this.verify(host, port, keyBlob, await this.pinned(host, port));
    }
  }

  /**
   * Pins this key for the host deliberately, in place of any pinned before (an admin's doing:
   * the host was rebuilt, or strict checking wants a key before the first connection).
   * Pinning the key already pinned leaves the pin as it is, its date too, and replaces nothing
   * (the caller still records that an admin confirmed it).
   */
  async pin(
    host: string,
    port: number,
    keyBlob: Buffer,
  ): Promise<{ pinned: KnownHost; replaced: KnownHost | null }> {
    const before = await this.pinned(host, port);
    const fingerprint = fingerprintOf(keyBlob);
    if (before?.fingerprint === fingerprint) return { pinned: before, replaced: null };
    const key = {
      keyType: keyTypeOf(keyBlob),
      fingerprint,
      publicKey: keyBlob.toString('base64'),
      createdAt: new Date(),
    };
    const pinned = await this.prisma.knownHost.upsert({
      where: { host_port: { host, port } },
      create: { host, port, ...key },
      update: key,
    });
    return { pinned, replaced: before };
  }

  /** Forgets the host's pinned key, if any: the next connection pins what it is shown (tofu). */
  async forget(host: string, port: number): Promise<KnownHost | null> {
    try {
      return await this.prisma.knownHost.delete({ where: { host_port: { host, port } } });
    } catch (err) {
      if ((err as { code?: string }).code === 'P2025') return null; // none was pinned
      throw err;
    }
  }
}
