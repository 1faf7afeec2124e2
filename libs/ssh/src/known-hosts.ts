import type { PrismaClient } from '@sallyport/db';
import { fingerprintOf, keyTypeOf } from './host-key.js';

export type HostKeyVerdict =
  | { kind: 'match'; fingerprint: string }
  | { kind: 'pinned'; fingerprint: string } // first use: now pinned
  | { kind: 'unknown'; fingerprint: string } // strict policy: not pinned, refused
  | { kind: 'mismatch'; fingerprint: string; pinnedFingerprint: string };

/** Host keys pinned per host and port in the database (trust on first use, or strict). */
export class KnownHosts {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly policy: 'tofu' | 'strict',
  ) {}

  /** The pinned key type for a host, so the connection can ask for that key first. */
  async pinnedKeyType(host: string, port: number): Promise<string | undefined> {
    const row = await this.prisma.knownHost.findUnique({ where: { host_port: { host, port } } });
    return row?.keyType;
  }

  async verify(host: string, port: number, keyBlob: Buffer): Promise<HostKeyVerdict> {
    const fingerprint = fingerprintOf(keyBlob);
    const pinned = await this.prisma.knownHost.findUnique({ where: { host_port: { host, port } } });
    if (pinned) {
      return pinned.fingerprint === fingerprint
        ? { kind: 'match', fingerprint }
        : { kind: 'mismatch', fingerprint, pinnedFingerprint: pinned.fingerprint };
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
      return this.verify(host, port, keyBlob);
    }
  }
}
