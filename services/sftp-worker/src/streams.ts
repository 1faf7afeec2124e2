import { Readable, Writable } from 'node:stream';
import type { SftpConnection } from './connection.js';
import { isSftpStatus } from './errors.js';

// A transfer keeps several requests in flight: one at a time, each chunk would cost a round
// trip and a loopback transfer would crawl. In flight at most CONCURRENCY × CHUNK bytes, so a
// transfer's memory stays bounded whatever the file's size.
const CHUNK = 64 * 1024;
const CONCURRENCY = 8;

interface Slot {
  offset: number;
  length: number;
  parts: Buffer[];
  got: number;
  done: boolean;
  eof: boolean;
}

/**
 * Reads an open remote file from start to `size` (its size when opened), with several reads
 * in flight, emitting bytes in order. It reads ahead only while its consumer wants more, so a
 * slow browser slows the reads instead of filling memory. Destroying it closes the handle.
 */
export class SftpReader extends Readable {
  private readonly slots: Slot[] = [];
  private next = 0;
  private wanted = false;
  private finished = false;

  constructor(
    private readonly conn: SftpConnection,
    private readonly handle: Buffer,
    private readonly size: number,
    private readonly onBytes: (n: number) => void = () => undefined,
  ) {
    super({ highWaterMark: CHUNK * 2 });
  }

  override _read(): void {
    this.wanted = true;
    this.fill();
  }

  private fill(): void {
    while (!this.finished && this.slots.length < CONCURRENCY && this.next < this.size) {
      const length = Math.min(CHUNK, this.size - this.next);
      const slot: Slot = { offset: this.next, length, parts: [], got: 0, done: false, eof: false };
      this.next += length;
      this.slots.push(slot);
      this.issue(slot);
    }
    if (!this.finished && this.slots.length === 0 && this.next >= this.size) this.end();
  }

  private issue(slot: Slot): void {
    const want = slot.length - slot.got;
    this.conn
      .call<number>((sftp, done) =>
        sftp.read(
          this.handle,
          Buffer.allocUnsafe(want),
          0,
          want,
          slot.offset + slot.got,
          (err, n, buf) => {
            if (!err && n > 0) slot.parts.push(buf.subarray(0, n));
            done(err, n);
          },
        ),
      )
      .then(
        (n) => {
          slot.got += n;
          if (n === 0) slot.eof = true;
          // SFTP may answer a read with fewer bytes than asked; ask again for the rest.
          if (!slot.eof && slot.got < slot.length) return this.issue(slot);
          slot.done = true;
          this.drain();
        },
        (err: unknown) => {
          if (isSftpStatus(err, 'eof')) {
            slot.eof = slot.done = true;
            return this.drain();
          }
          this.destroy(err as Error);
        },
      );
  }

  private drain(): void {
    while (!this.finished && this.slots[0]?.done) {
      const slot = this.slots.shift()!;
      for (const part of slot.parts) {
        this.onBytes(part.length);
        if (!this.push(part)) this.wanted = false;
      }
      // The file shrank while being read: what there was has been sent; stop here.
      if (slot.eof) return this.end();
    }
    if (this.wanted) this.fill();
  }

  private end(): void {
    if (this.finished) return;
    this.finished = true;
    this.push(null);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.finished = true;
    closeHandle(this.conn, this.handle);
    callback(err);
  }
}

/**
 * Writes to an open remote file with several writes in flight; `final` waits until the target
 * has acknowledged every byte. It takes no more input while its writes are outstanding, so
 * a slow target slows the upload instead of filling memory. The caller closes the handle.
 */
export class SftpWriter extends Writable {
  private position = 0;
  private inFlight = 0;
  private waitingWrite: ((err?: Error | null) => void) | undefined;
  private waitingFinal: ((err?: Error | null) => void) | undefined;
  private failed: Error | undefined;
  /** Bytes acknowledged by the target. */
  written = 0;

  constructor(
    private readonly conn: SftpConnection,
    private readonly handle: Buffer,
    private readonly onBytes: (n: number) => void = () => undefined,
  ) {
    super({ highWaterMark: CHUNK });
  }

  override _write(chunk: Buffer, _encoding: string, callback: (err?: Error | null) => void): void {
    if (this.failed) return callback(this.failed);
    for (let start = 0; start < chunk.length; start += CHUNK) {
      this.send(chunk.subarray(start, Math.min(start + CHUNK, chunk.length)));
    }
    if (this.inFlight < CONCURRENCY) callback();
    else this.waitingWrite = callback;
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.failed || this.inFlight === 0) return callback(this.failed);
    this.waitingFinal = callback;
  }

  private send(piece: Buffer): void {
    const position = this.position;
    this.position += piece.length;
    this.inFlight += 1;
    this.conn
      .call((sftp, done) => sftp.write(this.handle, piece, 0, piece.length, position, done))
      .then(
        () => {
          this.inFlight -= 1;
          this.written += piece.length;
          this.onBytes(piece.length);
          this.settle();
        },
        (err: unknown) => {
          this.inFlight -= 1;
          this.failed ??= err as Error;
          this.settle();
        },
      );
  }

  /** Lets a waiting write go on when a slot frees, and `final` finish when none is in flight. */
  private settle(): void {
    const write = this.waitingWrite;
    if (write && (this.failed || this.inFlight < CONCURRENCY)) {
      this.waitingWrite = undefined;
      write(this.failed);
    }
    const final = this.waitingFinal;
    if (final && (this.failed || this.inFlight === 0)) {
      this.waitingFinal = undefined;
      final(this.failed);
    }
  }
}

/** Closes a handle without waiting; a failure only means the connection is already gone. */
export function closeHandle(conn: SftpConnection, handle: Buffer): void {
  if (!conn.alive) return;
  conn.call((sftp, done) => sftp.close(handle, done)).catch(() => undefined);
}
