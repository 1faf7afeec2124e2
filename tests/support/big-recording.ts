// Writes a large recording straight into a cluster's store and database, in the recorder's
// format, in seconds: the chunks' plaintext is a few distinct blocks of random text, compressed
// once and encrypted for each chunk, so the file is as large as the cast and costs little to make.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { Keyring } from '@sallyport/crypto';
import { fileHeader, recordingKeyPurpose, sealChunk } from '@sallyport/recording';

const BLOCKS = 8;
const LINES_PER_CHUNK = 48;

/** A finished recording of about `bytes` of cast text, owned by `username`. */
export async function writeBigRecording(options: {
  databaseUrl: string;
  recordingDir: string;
  secretKey: string;
  username: string;
  bytes: number;
}): Promise<{ id: string; castBytes: number }> {
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [
      options.username,
    ]);
    const userId = rows[0]!.id;
    const sessionId = randomUUID();
    const id = randomUUID();
    await db.query(
      `INSERT INTO terminal_sessions (id, user_id, cols, rows, status) VALUES ($1, $2, 80, 24, 'ended')`,
      [sessionId, userId],
    );

    const keyring = new Keyring(Buffer.from(options.secretKey, 'base64'));
    const key = keyring.deriveKey(recordingKeyPurpose(id));
    const header = JSON.stringify({ version: 2, width: 80, height: 24, timestamp: 0 }) + '\n';
    // Lines of random base64: text that hardly compresses, like real output does not.
    const blocks = Array.from({ length: BLOCKS }, () => {
      const lines = Array.from(
        { length: LINES_PER_CHUNK },
        () => JSON.stringify([1, 'o', randomBytes(1000).toString('base64') + '\r\n']) + '\n',
      ).join('');
      return { text: lines, gzipped: gzipSync(lines, { level: 1 }) };
    });

    const file = path.join(options.recordingDir, `${id}.sprec`);
    const out = createWriteStream(file);
    const digest = createHash('sha256');
    const write = (data: Buffer) => {
      digest.update(data);
      return out.write(data)
        ? Promise.resolve()
        : new Promise<void>((resolve) => out.once('drain', () => resolve()));
    };
    const start = fileHeader(keyring.currentKeyId, id);
    await write(start.bytes);
    let prevTag = start.anchor;
    let castBytes = 0;
    let size = start.bytes.length;
    const chunkCount = Math.ceil(options.bytes / blocks[0]!.text.length);
    for (let i = 0; i < chunkCount; i++) {
      const block = blocks[i % BLOCKS]!;
      const first = i === 0 ? gzipSync(header + block.text, { level: 1 }) : block.gzipped;
      castBytes += (i === 0 ? header.length : 0) + block.text.length;
      const { frame, tag } = sealChunk(key, i, prevTag, first, i === chunkCount - 1);
      prevTag = tag;
      size += frame.length;
      await write(frame);
    }
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );

    await db.query(
      `INSERT INTO recordings (id, session_id, user_id, username, server_name, status, mode,
         records_input, key_id, cols, rows, started_at, ended_at, duration_ms, size_bytes, chunks,
         last_tag, digest)
       VALUES ($1, $2, $3, $4, 'big', 'complete', 'best_effort', false, $5, 80, 24, now(), now(),
         1000, $6, $7, $8, $9)`,
      [
        id,
        sessionId,
        userId,
        options.username,
        keyring.currentKeyId,
        size,
        chunkCount,
        prevTag.toString('base64'),
        digest.digest('hex'),
      ],
    );
    return { id, castBytes };
  } finally {
    await db.end();
  }
}
