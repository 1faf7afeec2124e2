import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Keyring, generateKey } from '@sallyport/crypto';
import { fileHeader, openChunks, recordingKeyPurpose, sealChunk } from './container.js';

const keyring = new Keyring(generateKey());
const recordingId = randomUUID();
const key = keyring.deriveKey(recordingKeyPurpose(recordingId));
const texts = ['{"version":2}\n', '[0.5,"o","one"]\n', '[1,"o","two"]\n', '[2,"o","three"]\n'];

/** A finished recording of `texts`, one chunk each, the last one final; and its frames. */
function recording(): { header: Buffer; frames: Buffer[] } {
  const { bytes, anchor } = fileHeader(keyring.currentKeyId, recordingId);
  let prev = anchor;
  const frames = texts.map((text, i) => {
    const { frame, tag } = sealChunk(key, i, prev, gzipSync(text), i === texts.length - 1);
    prev = tag;
    return frame;
  });
  return { header: bytes, frames };
}

const options = (file: Buffer, overrides = {}) => ({
  recordingId,
  keyId: keyring.currentKeyId,
  keyFor: (keyId: string) => keyring.deriveKey(recordingKeyPurpose(recordingId), keyId),
  chunks: texts.length,
  finished: true,
  digest: createHash('sha256').update(file).digest('hex'),
  ...overrides,
});

/** The file delivered in pieces of `size` bytes, as a stream would. */
async function* pieces(file: Buffer, size = 7): AsyncGenerator<Buffer> {
  for (let i = 0; i < file.length; i += size) yield file.subarray(i, i + size);
}

async function read(file: Buffer, overrides = {}): Promise<number> {
  let n = 0;
  for await (const chunk of openChunks(pieces(file), options(file, overrides))) {
    expect(chunk.length).toBeGreaterThan(0);
    n += 1;
  }
  return n;
}

describe('the recording container', () => {
  it('reads back every chunk of an intact file, however it is split', async () => {
    const { header, frames } = recording();
    expect(await read(Buffer.concat([header, ...frames]))).toBe(texts.length);
  });

  it.each([
    [
      'a flipped byte',
      (h: Buffer, f: Buffer[]) => {
        const file = Buffer.concat([h, ...f]);
        file[h.length + f[0]!.length + 20]! ^= 1;
        return file;
      },
    ],
    [
      'a truncation inside a chunk',
      (h: Buffer, f: Buffer[]) => Buffer.concat([h, ...f]).subarray(0, -5),
    ],
    [
      'a truncation at a chunk boundary',
      (h: Buffer, f: Buffer[]) => Buffer.concat([h, ...f.slice(0, -1)]),
    ],
    [
      'two chunks swapped',
      (h: Buffer, f: Buffer[]) => Buffer.concat([h, f[0]!, f[2]!, f[1]!, f[3]!]),
    ],
    ['a chunk dropped', (h: Buffer, f: Buffer[]) => Buffer.concat([h, f[0]!, f[2]!, f[3]!])],
    ['a chunk repeated', (h: Buffer, f: Buffer[]) => Buffer.concat([h, ...f, f[3]!])],
    [
      "another recording's header",
      (_h: Buffer, f: Buffer[]) =>
        Buffer.concat([fileHeader(keyring.currentKeyId, randomUUID()).bytes, ...f]),
    ],
  ])('refuses %s', async (_name, tamper) => {
    const { header, frames } = recording();
    const file = tamper(header, frames);
    // Without the digest too: the chain alone must catch it.
    await expect(read(file, { digest: null })).rejects.toThrow('recording integrity check failed');
  });

  it('refuses a file whose digest differs from the one recorded', async () => {
    const { header, frames } = recording();
    const file = Buffer.concat([header, ...frames]);
    await expect(read(file, { digest: 'f'.repeat(64) })).rejects.toThrow(
      'recording integrity check failed',
    );
  });

  it('reads a recording in progress up to its checkpoint, without a final chunk', async () => {
    const { header, frames } = recording();
    const file = Buffer.concat([header, ...frames.slice(0, 2)]);
    expect(await read(file, { chunks: 2, finished: false, digest: null })).toBe(2);
    await expect(read(file, { chunks: 2, finished: true, digest: null })).rejects.toThrow(
      'recording integrity check failed',
    );
  });
});
