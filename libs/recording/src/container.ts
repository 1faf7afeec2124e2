// The on-disk form of a recording: a short plaintext header, then chunks, each one gzipped
// asciicast text encrypted with AES-256-GCM under a key derived for this recording. Each chunk's
// authenticated data is its index, its flags and the previous chunk's tag (the header's hash for
// the first), so a flipped byte, a reordering or a spliced-in chunk fails authentication, and a
// finished file must end with a chunk flagged final, so a truncation shows too.
//
//   header: "SPREC" 0x01 <keyIdLength u8> <keyId ascii> <recordingId, 36 ascii>
//   chunk:  <bodyLength u32 BE> <flags u8> <iv 12> <ciphertext> <tag 16>
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const MAGIC = Buffer.from('SPREC\x01', 'latin1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FLAG_FINAL = 1;
/** A chunk body larger than this is garbage, not a chunk: refuse it rather than buffer it. */
export const MAX_CHUNK_BODY = 16 * 1024 * 1024;

export const INTEGRITY_MESSAGE = 'recording integrity check failed';

/** The stored recording is not what was written. The message is safe to show. */
export class RecordingIntegrityError extends Error {
  constructor(readonly detail: string) {
    super(INTEGRITY_MESSAGE);
    this.name = 'RecordingIntegrityError';
  }
}

/** The purpose a recording's key is derived for (see Keyring.deriveKey). */
export const recordingKeyPurpose = (recordingId: string) => `recording:${recordingId}`;

/** The file header, and the tag the first chunk is chained to. */
export function fileHeader(keyId: string, recordingId: string): { bytes: Buffer; anchor: Buffer } {
  const id = Buffer.from(keyId, 'ascii');
  const bytes = Buffer.concat([
    MAGIC,
    Buffer.from([id.length]),
    id,
    Buffer.from(recordingId, 'ascii'),
  ]);
  return { bytes, anchor: anchorOf(bytes) };
}

const anchorOf = (header: Buffer) =>
  createHash('sha256').update(header).digest().subarray(0, TAG_BYTES);

function chunkAad(index: number, flags: number, prevTag: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(index, 0);
  head.writeUInt8(flags, 4);
  return Buffer.concat([head, prevTag]);
}

/** Encrypts chunk `index` (already gzipped); the caller keeps `tag` for the next one. */
export function sealChunk(
  key: Buffer,
  index: number,
  prevTag: Buffer,
  compressed: Buffer,
  final: boolean,
): { frame: Buffer; tag: Buffer } {
  const flags = final ? FLAG_FINAL : 0;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(chunkAad(index, flags, prevTag));
  const body = Buffer.concat([cipher.update(compressed), cipher.final()]);
  const tag = cipher.getAuthTag();
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(1 + IV_BYTES + body.length + TAG_BYTES, 0);
  head.writeUInt8(flags, 4);
  return { frame: Buffer.concat([head, iv, body, tag]), tag };
}

export interface OpenChunksOptions {
  recordingId: string;
  keyId: string;
  /** Derives the recording's key for the key id in the header. */
  keyFor: (keyId: string) => Buffer;
  /** How many chunks the file must hold (the checkpoint's count). */
  chunks: number;
  /** A finished recording ends with a final chunk and nothing after it. */
  finished: boolean;
  /** sha256 (hex) of the whole file, when the recording was finalised. */
  digest?: string | null;
}

/**
 * Reads a recording's bytes and yields each chunk's plaintext (still gzipped), checking every
 * link of the chain as it goes; memory is bounded by one chunk. Throws RecordingIntegrityError
 * at the first thing that does not fit.
 */
export async function* openChunks(
  source: AsyncIterable<Buffer>,
  options: OpenChunksOptions,
): AsyncGenerator<Buffer> {
  const digest = createHash('sha256');
  const reader = new FrameReader();
  const expectedHeader = fileHeader(options.keyId, options.recordingId);
  let key: Buffer | undefined;
  let prevTag = expectedHeader.anchor;
  let index = 0;
  let sawFinal = false;
  for await (const data of source) {
    digest.update(data);
    reader.push(data);
    if (!key) {
      const header = reader.take(expectedHeader.bytes.length);
      if (!header) continue;
      if (!header.equals(expectedHeader.bytes)) throw new RecordingIntegrityError('header');
      key = options.keyFor(options.keyId);
    }
    for (let body = reader.frame(); body; body = reader.frame()) {
      if (sawFinal) throw new RecordingIntegrityError('data after the final chunk');
      if (index >= options.chunks) throw new RecordingIntegrityError('more chunks than recorded');
      const opened = openBody(key, index, prevTag, body);
      prevTag = opened.tag;
      sawFinal = opened.final;
      index += 1;
      yield opened.plaintext;
    }
  }
  if (!key && options.chunks > 0) throw new RecordingIntegrityError('header missing');
  if (reader.remaining > 0) throw new RecordingIntegrityError('truncated chunk');
  if (index !== options.chunks) throw new RecordingIntegrityError('chunks missing');
  if (options.finished && !sawFinal) throw new RecordingIntegrityError('final chunk missing');
  if (options.digest && digest.digest('hex') !== options.digest)
    throw new RecordingIntegrityError('digest');
}

function openBody(
  key: Buffer,
  index: number,
  prevTag: Buffer,
  body: Buffer,
): { plaintext: Buffer; tag: Buffer; final: boolean } {
  if (body.length < 1 + IV_BYTES + TAG_BYTES) throw new RecordingIntegrityError('short chunk');
  const flags = body.readUInt8(0);
  const iv = body.subarray(1, 1 + IV_BYTES);
  const tag = body.subarray(body.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(chunkAad(index, flags, prevTag));
  decipher.setAuthTag(tag);
  try {
    const plaintext = Buffer.concat([
      decipher.update(body.subarray(1 + IV_BYTES, body.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return { plaintext, tag: Buffer.from(tag), final: (flags & FLAG_FINAL) !== 0 };
  } catch {
    throw new RecordingIntegrityError(`chunk ${index} failed authentication`);
  }
}

/** Cuts length-prefixed frames out of a byte stream, holding at most one frame. */
class FrameReader {
  private parts: Buffer[] = [];
  private length = 0;

  get remaining(): number {
    return this.length;
  }

  push(data: Buffer): void {
    this.parts.push(data);
    this.length += data.length;
  }

  take(bytes: number): Buffer | undefined {
    if (this.length < bytes) return undefined;
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const out = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.parts = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  frame(): Buffer | undefined {
    const head = this.peek(4);
    if (!head) return undefined;
    const bodyLength = head.readUInt32BE(0);
    if (bodyLength > MAX_CHUNK_BODY) throw new RecordingIntegrityError('impossible chunk length');
    if (this.length < 4 + bodyLength) return undefined;
    return this.take(4 + bodyLength)!.subarray(4);
  }

  private peek(bytes: number): Buffer | undefined {
    if (this.length < bytes) return undefined;
    if (this.parts[0]!.length < bytes) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0]!.subarray(0, bytes);
  }
}
