import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const KEY_BYTES = 32;

/** A 32-byte AES key, given as base64 (or 64 hex characters). */
export function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new Error(
      `a secret key must be ${KEY_BYTES} bytes, base64 or hex encoded (got ${key.length} bytes)`,
    );
  }
  return key;
}

export const generateKey = (): Buffer => randomBytes(KEY_BYTES);

/** A short, stable id for a key, stored with every ciphertext so keys can be rotated. */
export const keyIdOf = (key: Buffer): string =>
  createHash('sha256').update(key).digest('hex').slice(0, 8);

/**
 * Encrypts secrets at rest with AES-256-GCM under the current key, and decrypts anything
 * written under the current or a previous key. The ciphertext names its key id:
 * `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts). `context` binds a ciphertext to where it
 * is stored (e.g. "server:<id>:secret"), so a value copied into another row does not decrypt.
 */
export class Keyring {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.currentKeyId = keyIdOf(current);
    this.keys.set(this.currentKeyId, current);
    for (const key of previous) this.keys.set(keyIdOf(key), key);
  }

  encrypt(plaintext: string, context: string): string {
    const key = this.keys.get(this.currentKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.currentKeyId, iv, body, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  decrypt(ciphertext: string, context: string): string {
    const [version, keyId, iv, body, tag] = ciphertext.split('.');
    if (version !== VERSION || !keyId || iv === undefined || body === undefined || !tag) {
      throw new Error('not a Sallyport ciphertext');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`secret was encrypted with key ${keyId}, which is not configured`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new Error('secret failed its integrity check (wrong key or tampered value)');
    }
  }

  /**
   * A key of its own for one purpose (e.g. "recording:<id>"), derived with HKDF-SHA256 from the
   * key `keyId` (default the current one). Bulk data encrypted under derived keys never reuses
   * the master key, and random IVs only have to be unique within one purpose.
   */
  deriveKey(purpose: string, keyId: string = this.currentKeyId): Buffer {
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`data was encrypted with key ${keyId}, which is not configured`);
    return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), purpose, KEY_BYTES));
  }

  /** True when the value is under an older key and should be re-encrypted. */
  needsRotation(ciphertext: string): boolean {
    return ciphertext.split('.')[1] !== this.currentKeyId;
  }
}
