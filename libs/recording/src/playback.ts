import { gunzipSync } from 'node:zlib';
import type { Keyring } from '@sallyport/crypto';
import type { Recording } from '@sallyport/db';
import {
  MAX_CHUNK_BODY,
  openChunks,
  recordingKeyPurpose,
  RecordingIntegrityError,
} from './container.js';
import type { RecordingStore } from './store.js';

/** What reading a recording needs from its row. */
export type StoredRecording = Pick<
  Recording,
  'id' | 'keyId' | 'status' | 'chunks' | 'sizeBytes' | 'digest'
>;

/**
 * Reads recordings back for playback and download: decrypting and checking on the fly, one
 * chunk in memory at a time. A recording still being written is read up to its checkpoint.
 */
export class RecordingReader {
  constructor(
    private readonly store: RecordingStore,
    private readonly keyring: Keyring,
  ) {}

  /** Reads the whole file and checks every chunk and the digest, without decompressing. */
  async verify(recording: StoredRecording): Promise<void> {
    for await (const chunk of this.chunks(recording)) void chunk;
  }

  /** The asciicast text, chunk by chunk; throws RecordingIntegrityError where it stops fitting. */
  async *cast(recording: StoredRecording): AsyncGenerator<Buffer> {
    for await (const compressed of this.chunks(recording)) {
      yield decompress(compressed);
    }
  }

  private async *chunks(recording: StoredRecording): AsyncGenerator<Buffer> {
    const source = this.store.read(recording.id, Number(recording.sizeBytes));
    try {
      yield* openChunks(source, {
        recordingId: recording.id,
        keyId: recording.keyId,
        keyFor: (keyId) => this.keyring.deriveKey(recordingKeyPurpose(recording.id), keyId),
        chunks: recording.chunks,
        finished: recording.status !== 'recording',
        digest: recording.digest,
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new RecordingIntegrityError('file missing');
      throw err;
    } finally {
      source.destroy();
    }
  }
}

/**
 * One chunk (at most MAX_CHUNK_BODY out). Synchronous on purpose: a chunk is small, and with the
 * asynchronous form a 200 MB download grew the gateway by some 50 MB before the garbage
 * collector caught up (about 20 MB this way; see the recordings test).
 */
function decompress(compressed: Buffer): Buffer {
  try {
    return gunzipSync(compressed, { maxOutputLength: MAX_CHUNK_BODY });
  } catch {
    throw new RecordingIntegrityError('a chunk does not decompress');
  }
}
