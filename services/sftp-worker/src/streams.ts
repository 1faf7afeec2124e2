import { Readable, Writable } from 'node:stream';
import type { SftpConnection } from './connection.js';
import { isSftpStatus } from './errors.js';

/**
 * How a transfer pipelines its requests. One request at a time, each chunk would cost a round
 * trip and even a loopback transfer would crawl; OpenSSH's own client keeps 64 requests of
 * 32 KiB in flight. Whatever the file's size, a transfer holds at most about `window` bytes.
 */
export interface Pipelining {
  /** Bytes per read or write request, capped by what the target accepts. Default 64 KiB. */
  chunk?: number;
  /**
   * Bytes a transfer may have outstanding: requested from the target and not yet taken by the
   * browser (download), or taken from the browser and not yet acknowledged (upload).
   * Default 4 MiB.
   */
  window?: number;
}

const CHUNK = 64 * 1024;
const WINDOW = 4 * 1024 * 1024;

function sizes(options: Pipelining, targetMax: number): { chunk: number; window: number } {
  const chunk = Math.max(1, Math.min(options.chunk ?? CHUNK, targetMax));
  return { chunk, window: Math.max(options.window ?? WINDOW, chunk) };
}

/** One read request's range of the file and what has come back for it so far. */
interface Slot {
  offset: number;
  buffer: Buffer;
  got: number;
  done: boolean;
  eof: boolean;
}

/**
 * Reads an open remote file from start to `size` (its size when opened), with many reads in
 * flight, emitting bytes in order whatever order the answers come in. It requests only while
 * what it has requested and what its consumer has not yet taken stay under the window, so a
 * slow browser slows the reads instead of filling memory. Destroying it closes the handle.
 */
export class SftpReader extends Readable {
  private readonly slots: Slot[] = [];
  private readonly chunk: number;
  private readonly window: number;
  /** The next offset to request. */
  private next = 0;
  /** Bytes requested and not yet pushed. */
  private requested = 0;
  private finished = false;

  constructor(
    private readonly conn: SftpConnection,
    private readonly handle: Buffer,
    private readonly size: number,
    private readonly onBytes: (n: number) => void = () => undefined,
    options: Pipelining = {},
  ) {
    const { chunk, window } = sizes(options, conn.maxRequestBytes.read);
    // Node asks for more (_read) only while less than this is buffered; at or above the window
    // nothing would be requested anyway.
    super({ highWaterMark: window });
    this.chunk = chunk;
    this.window = window;
  }

  override _read(): void {
    this.fill(true);
  }

  /**
   * Requests while what is requested and what is buffered stay under the window. When Node
   * asks (`asked`) with nothing in flight, one request goes out whatever is buffered: Node
   * asks before its consumer takes what is buffered, and if nothing were requested then,
   * nothing would be pushed and Node would never ask again. It asks only while less than the
   * high-water mark (the window) is buffered, so that stays bounded too.
   */
  private fill(asked = false): void {
    while (
      !this.finished &&
      this.next < this.size &&
      ((asked && this.requested === 0) || this.requested + this.readableLength < this.window)
    ) {
      const length = Math.min(this.chunk, this.size - this.next);
      const slot: Slot = {
        offset: this.next,
        buffer: Buffer.allocUnsafe(length),
        got: 0,
        done: false,
        eof: false,
      };
      this.next += length;
      this.requested += length;
      this.slots.push(slot);
      this.issue(slot);
    }
    if (!this.finished && this.slots.length === 0 && this.next >= this.size) this.end();
  }

  private issue(slot: Slot): void {
    const want = slot.buffer.length - slot.got;
    this.conn
      .call<number>((sftp, done) =>
        sftp.read(this.handle, slot.buffer, slot.got, want, slot.offset + slot.got, (err, n) =>
          done(err, n),
        ),
      )
      .then(
        (n) => {
          if (this.finished) return;
          slot.got += n;
          if (n === 0) slot.eof = true;
          // SFTP may answer a read with fewer bytes than asked; ask again for the rest. The
          // other slots stay in flight meanwhile.
          if (!slot.eof && slot.got < slot.buffer.length) return this.issue(slot);
          slot.done = true;
          this.drain();
        },
        (err: unknown) => {
          if (this.finished) return;
          if (isSftpStatus(err, 'eof')) {
            slot.eof = slot.done = true;
            return this.drain();
          }
          this.destroy(err as Error);
        },
      );
  }

  /** Pushes the answered slots at the head, in file order, then asks for more if there is room. */
  private drain(): void {
    while (!this.finished && this.slots[0]?.done) {
      const slot = this.slots.shift()!;
      this.requested -= slot.buffer.length;
      if (slot.got > 0) {
        this.onBytes(slot.got);
        this.push(
          slot.got === slot.buffer.length ? slot.buffer : slot.buffer.subarray(0, slot.got),
        );
      }
      // The file shrank while being read: what there was has been sent; stop here.
      if (slot.eof) return this.end();
    }
    this.fill();
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
 * Writes to an open remote file with many writes in flight; `final` waits until the target
 * has acknowledged every byte. Input pieces of half a chunk or more go out as they are (cut
 * only at the target's limit): a body arrives in socket reads of about a chunk, and cutting it
 * into exact chunks would copy every byte once one piece came short. Smaller pieces are
 * gathered into requests of a chunk. It takes no more input while a window's worth is
 * unacknowledged, so a slow target slows the upload instead of filling memory. The caller
 * closes the handle.
 */
export class SftpWriter extends Writable {
  private readonly chunk: number;
  /** The most one request may carry: the target's limit. */
  private readonly max: number;
  private readonly window: number;
  /** Input not yet sent, less than a chunk until `final`. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private position = 0;
  private unacknowledged = 0;
  private waitingWrite: ((err?: Error | null) => void) | undefined;
  private waitingFinal: ((err?: Error | null) => void) | undefined;
  private failed: Error | undefined;
  /** Bytes acknowledged by the target. */
  written = 0;

  constructor(
    private readonly conn: SftpConnection,
    private readonly handle: Buffer,
    private readonly onBytes: (n: number) => void = () => undefined,
    options: Pipelining = {},
  ) {
    const { chunk, window } = sizes(options, conn.maxRequestBytes.write);
    super({ highWaterMark: chunk });
    this.chunk = chunk;
    this.max = Math.max(chunk, conn.maxRequestBytes.write);
    this.window = window;
  }

  override _write(chunk: Buffer, _encoding: string, callback: (err?: Error | null) => void): void {
    if (this.failed) return callback(this.failed);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    while (this.heldBytes >= this.chunk) this.send(this.take());
    if (this.hasRoom()) callback();
    else this.waitingWrite = callback;
  }

  override _final(callback: (err?: Error | null) => void): void {
    while (!this.failed && this.heldBytes > 0) this.send(this.take());
    this.waitingFinal = callback;
    this.settle();
  }

  private hasRoom(): boolean {
    return this.unacknowledged + this.heldBytes < this.window;
  }

  /**
   * The next request's bytes: the first held piece as it is when it has half a chunk or more;
   * else small pieces gathered up to a chunk, stopping before a large one (it goes next, as
   * it is).
   */
  private take(): Buffer {
    const large = this.chunk / 2;
    const first = this.held[0]!;
    if (first.length >= large) return this.cut(Math.min(first.length, this.max));
    let n = 0;
    for (const piece of this.held) {
      if (piece.length >= large) break;
      n += piece.length;
      if (n >= this.chunk) return this.cut(this.chunk);
    }
    return this.cut(n);
  }

  /** The first `n` held bytes as one buffer: a slice when they lie in one input piece. */
  private cut(n: number): Buffer {
    this.heldBytes -= n;
    const first = this.held[0]!;
    if (first.length > n) {
      this.held[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) return this.held.shift()!;
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const part = this.held[0]!;
      const used = Math.min(part.length, n - at);
      part.copy(out, at, 0, used);
      at += used;
      if (used === part.length) this.held.shift();
      else this.held[0] = part.subarray(used);
    }
    return out;
  }

  private send(piece: Buffer): void {
    const position = this.position;
    this.position += piece.length;
    this.unacknowledged += piece.length;
    this.conn
      .call((sftp, done) => sftp.write(this.handle, piece, 0, piece.length, position, done))
      .then(
        () => {
          this.unacknowledged -= piece.length;
          this.written += piece.length;
          this.onBytes(piece.length);
          this.settle();
        },
        (err: unknown) => {
          this.unacknowledged -= piece.length;
          this.failed ??= err as Error;
          this.settle();
        },
      );
  }

  /** Lets a waiting write go on when there is room, and `final` finish when all is acknowledged. */
  private settle(): void {
    const write = this.waitingWrite;
    if (write && (this.failed || this.hasRoom())) {
      this.waitingWrite = undefined;
      write(this.failed);
    }
    const final = this.waitingFinal;
    if (final && (this.failed || this.unacknowledged === 0)) {
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
