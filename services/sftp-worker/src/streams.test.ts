import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client, SFTPWrapper } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { SftpConnection } from './connection.js';
import { SftpReader, SftpWriter } from './streams.js';

type Answer = () => void;

/**
 * An SFTP session over one in-memory file that answers requests only when the test says so,
 * in any order it likes; it may answer reads short, and fail the request at a given offset.
 */
class FakeTarget {
  readonly queued: { kind: 'read' | 'write'; offset: number; length: number; answer: Answer }[] =
    [];
  closed = 0;
  /** Reads answer at most this many bytes. */
  shortReadsTo = Infinity;
  failAt: number | undefined;

  /** Every write request's bytes, as the writer passed them (the same memory, not a copy). */
  readonly writes: Buffer[] = [];

  constructor(public file: Buffer = Buffer.alloc(0)) {}

  readonly sftp = Object.assign(new EventEmitter(), {
    _maxReadLen: 1 << 20,
    _maxWriteLen: 1 << 20,
    read: (
      _handle: Buffer,
      buf: Buffer,
      off: number,
      len: number,
      position: number,
      cb: (err: Error | undefined, n: number) => void,
    ) =>
      this.queue('read', position, len, () => {
        if (this.failAt !== undefined && position <= this.failAt && this.failAt < position + len)
          return cb(Object.assign(new Error('Failure'), { code: 4 }), 0);
        const n = Math.max(0, Math.min(len, this.shortReadsTo, this.file.length - position));
        this.file.copy(buf, off, position, position + n);
        cb(undefined, n);
      }),
    write: (
      _handle: Buffer,
      buf: Buffer,
      off: number,
      len: number,
      position: number,
      cb: (err?: Error) => void,
    ) => {
      this.writes.push(buf.subarray(off, off + len));
      const data = Buffer.from(buf.subarray(off, off + len)); // the caller may reuse its buffer
      this.queue('write', position, len, () => {
        if (this.failAt !== undefined && position <= this.failAt && this.failAt < position + len)
          return cb(Object.assign(new Error('Failure'), { code: 4 }));
        if (this.file.length < position + len) {
          const grown = Buffer.alloc(position + len);
          this.file.copy(grown);
          this.file = grown;
        }
        data.copy(this.file, position);
        cb();
      });
    },
    close: (_handle: Buffer, cb: () => void) => {
      this.closed += 1;
      cb();
    },
  });

  readonly conn = new SftpConnection(
    Object.assign(new EventEmitter(), { end: () => undefined }) as unknown as Client,
    this.sftp as unknown as SFTPWrapper,
    { where: 'db-1:22', opTimeoutMs: 60_000, now: () => 0 },
  );

  private queue(kind: 'read' | 'write', offset: number, length: number, answer: Answer) {
    this.queued.push({ kind, offset, length, answer });
  }

  /** Bytes requested and not yet answered. */
  get outstanding(): number {
    return this.queued.reduce((sum, q) => sum + q.length, 0);
  }

  /** Answers everything queued, newest first (the worst order for the stream), until idle. */
  async answerAll(order: 'newest-first' | 'shuffled' = 'newest-first'): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.queued.length === 0) return;
      const batch = this.queued.splice(0);
      if (order === 'newest-first') batch.reverse();
      else batch.sort(() => Math.random() - 0.5);
      for (const q of batch) q.answer();
    }
  }
}

const handle = Buffer.from('h');

/** Collects what a reader emits while the target answers out of order. */
async function readAll(target: FakeTarget, reader: SftpReader, order?: 'shuffled') {
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of reader) chunks.push(chunk as Buffer);
  })();
  let settled = false;
  void done.finally(() => (settled = true)).catch(() => undefined);
  while (!settled) await target.answerAll(order);
  await done;
  return Buffer.concat(chunks);
}

describe('SftpReader', () => {
  const chunk = 1024;
  const window = 4 * chunk;

  it.each([0, 1, chunk - 1, chunk, chunk + 1, window - 1, window, window + 1, 10 * window + 7])(
    'yields exactly the file of %i bytes though the answers come newest first',
    async (size) => {
      const target = new FakeTarget(randomBytes(size));
      const reader = new SftpReader(target.conn, handle, size, undefined, { chunk, window });
      expect((await readAll(target, reader)).equals(target.file)).toBe(true);
      expect(target.closed).toBe(1);
    },
  );

  it('asks again for the rest of a short answer and still yields the bytes in order', async () => {
    const size = 5 * window + 300;
    const target = new FakeTarget(randomBytes(size));
    target.shortReadsTo = 700;
    const reader = new SftpReader(target.conn, handle, size, undefined, { chunk, window });
    expect((await readAll(target, reader, 'shuffled')).equals(target.file)).toBe(true);
  });

  it('stops at the end of a file that shrank since it was opened', async () => {
    const target = new FakeTarget(randomBytes(2 * window));
    const reader = new SftpReader(target.conn, handle, 3 * window, undefined, { chunk, window });
    expect((await readAll(target, reader)).equals(target.file)).toBe(true);
  });

  it('fails the stream when a read fails mid-file, and closes the handle', async () => {
    const target = new FakeTarget(randomBytes(8 * window));
    target.failAt = 5 * window + 10;
    const reader = new SftpReader(target.conn, handle, 8 * window, undefined, { chunk, window });
    await expect(readAll(target, reader)).rejects.toMatchObject({ code: 4 });
    expect(target.closed).toBe(1);
  });

  it('requests no more than its window ahead of a consumer that stops reading', async () => {
    const size = 100 * window;
    const target = new FakeTarget(randomBytes(size));
    const reader = new SftpReader(target.conn, handle, size, undefined, { chunk, window });
    const consumer = new PassThrough({ highWaterMark: chunk });
    reader.pipe(consumer); // nobody reads the consumer
    for (let i = 0; i < 20; i++) {
      expect(target.outstanding + reader.readableLength).toBeLessThanOrEqual(window + chunk);
      await target.answerAll();
    }
    expect(target.outstanding + reader.readableLength).toBeLessThanOrEqual(window + chunk);
    expect(reader.readableLength + consumer.readableLength).toBeLessThan(3 * window);
    reader.destroy();
  });
});

/** Writes `data` through a writer in pieces of `piece` bytes while the target answers. */
async function writeAll(target: FakeTarget, writer: SftpWriter, data: Buffer, piece: number) {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += piece) pieces.push(data.subarray(at, at + piece));
  await writePieces(target, writer, pieces);
}

/** Writes `pieces` through a writer, one input chunk each, while the target answers. */
async function writePieces(target: FakeTarget, writer: SftpWriter, pieces: Buffer[]) {
  const done = pipeline(Readable.from(pieces), writer);
  let settled = false;
  void done.finally(() => (settled = true)).catch(() => undefined);
  while (!settled) await target.answerAll('shuffled');
  await done;
}

describe('SftpWriter', () => {
  const chunk = 1024;
  const window = 4 * chunk;

  it.each([
    [1, 100],
    [chunk - 1, 7],
    [chunk, chunk],
    [chunk + 1, 333],
    [10 * window + 7, 333],
    [10 * window + 7, 3 * chunk + 5],
  ])(
    'writes exactly the %i bytes sent in pieces of %i, acknowledged in any order',
    async (size, piece) => {
      const target = new FakeTarget();
      const writer = new SftpWriter(target.conn, handle, undefined, { chunk, window });
      const data = randomBytes(size);
      await writeAll(target, writer, data, piece);
      expect(target.file.equals(data)).toBe(true);
      expect(writer.written).toBe(size);
    },
  );

  it('sends requests of the chunk size whatever size the input comes in', async () => {
    const target = new FakeTarget();
    const writer = new SftpWriter(target.conn, handle, undefined, { chunk, window });
    await writeAll(target, writer, randomBytes(10 * chunk + 5), 100);
    const sizes = target.writes.map((w) => w.length);
    expect(sizes.slice(0, -1).every((n) => n === chunk)).toBe(true);
    expect(sizes.at(-1)).toBe(5);
  });

  it('sends pieces of half a chunk or more as they came, without copying them', async () => {
    const target = new FakeTarget();
    const writer = new SftpWriter(target.conn, handle, undefined, { chunk, window });
    // A short first piece (as a body's first socket read is, after the headers), then pieces
    // a little over a chunk: cut into exact chunks, every later byte would have to be copied.
    const sizes = [300, chunk + 1, chunk + 1, chunk + 1, 700];
    const data = randomBytes(sizes.reduce((a, b) => a + b));
    const pieces: Buffer[] = [];
    for (let at = 0, i = 0; i < sizes.length; at += sizes[i++]!)
      pieces.push(data.subarray(at, at + sizes[i]!));
    await writePieces(target, writer, pieces);
    expect(target.writes.map((w) => w.length)).toEqual(sizes);
    target.writes.forEach((request, i) => {
      expect(request.buffer).toBe(pieces[i]!.buffer);
      expect(request.byteOffset).toBe(pieces[i]!.byteOffset);
    });
    expect(target.file.equals(data)).toBe(true);
  });

  it('cuts a piece larger than the target accepts into requests it accepts', async () => {
    const target = new FakeTarget();
    target.sftp._maxWriteLen = 2 * chunk;
    const writer = new SftpWriter(target.conn, handle, undefined, { chunk, window });
    const data = randomBytes(5 * chunk + 7);
    await writeAll(target, writer, data, data.length);
    expect(Math.max(...target.writes.map((w) => w.length))).toBe(2 * chunk);
    expect(target.file.equals(data)).toBe(true);
  });

  it('fails the upload when a write fails mid-file', async () => {
    const target = new FakeTarget();
    target.failAt = 3 * window + 1;
    const writer = new SftpWriter(target.conn, handle, undefined, { chunk, window });
    await expect(writeAll(target, writer, randomBytes(10 * window), 500)).rejects.toMatchObject({
      code: 4,
    });
  });

  it('takes no more input than its window while the target does not answer', async () => {
    const target = new FakeTarget();
    const writer = new SftpWriter(target.conn, handle, undefined, { chunk, window });
    let taken = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 1000; i++) yield randomBytes(300);
      })(),
    );
    source.on('data', (piece: Buffer) => (taken += piece.length));
    source.pipe(writer);
    await expect.poll(() => target.outstanding).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(target.outstanding).toBeLessThanOrEqual(window);
    // What the writer has not sent yet is less than a chunk, plus Node's own small buffers.
    expect(taken - target.outstanding).toBeLessThan(
      chunk + writer.writableHighWaterMark + 16 * 300,
    );
    source.destroy();
    writer.destroy();
  });
});
