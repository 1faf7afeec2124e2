/**
 * Gathers the shell's output chunks for one event-loop turn and hands them on together.
 *
 * ssh2 emits one `data` event per SSH packet (often 1–4 KB), and a busy shell delivers many of
 * them in one socket read. Publishing each one costs a bus message, a WebSocket frame and a
 * browser write apiece; one per turn costs the same once. Nothing waits on a timer when output
 * comes now and then, so keystroke echo is not delayed. The chunks are not joined here: the bus
 * message is the one copy they need.
 *
 * While output streams (a large batch went out, and others have followed within `holdMs`), a
 * batch waits until `holdMs` after the last one instead of going at the end of its turn. A turn
 * carries only what one socket read brought, a few KB when the worker keeps up with the shell,
 * and every message costs each hop a system call and a wake-up; held, a stream goes out in a
 * dozen or two messages per MB instead of a hundred or more, each at most `holdMs` later.
 */
export class OutputBatch {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Cancels the flush that is scheduled, if one is. */
  private cancelScheduled: (() => void) | undefined;
  private lastFlushAt = -Infinity;
  private streaming = false;

  /**
   * @param emit receives each batch (its chunks and their total length), in order
   * @param maxBytes a batch this large is emitted at once, held or not
   * @param stream a batch of `fromBytes` or more starts a stream
   */
  constructor(
    private readonly emit: (chunks: readonly Buffer[], bytes: number) => void,
    private readonly maxBytes: number,
    private readonly stream: { holdMs: number; fromBytes: number } = STREAM,
  ) {}

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= this.maxBytes) return this.flush();
    if (this.cancelScheduled) return;
    const wait = this.holdFor(performance.now());
    if (wait > 0) {
      const timer = setTimeout(() => this.flush(), wait);
      this.cancelScheduled = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.flush());
      this.cancelScheduled = () => clearImmediate(immediate);
    }
  }

  /** Emits what is gathered now: whatever must follow the output so far calls this first. */
  flush(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
    if (this.bytes === 0) return;
    const { chunks, bytes } = this;
    this.chunks = [];
    this.bytes = 0;
    this.lastFlushAt = performance.now();
    if (bytes >= this.stream.fromBytes) this.streaming = true;
    this.emit(chunks, bytes);
  }

  /**
   * How long a batch begun at `now` waits. A stream goes on while batches follow within
   * `holdMs`, small ones too (one short socket read does not end it).
   */
  private holdFor(now: number): number {
    const wait = this.lastFlushAt + this.stream.holdMs - now;
    if (wait <= 0) this.streaming = false;
    return this.streaming ? wait : 0;
  }
}

/**
 * Output at tens of MB/s comes in batches of several KB per turn; typing, prompts and a log
 * tailed at a MB/s or two come in smaller ones, and go out at the end of their turn. Held for
 * 5 ms, a stream at the 20–25 MB/s a shell prints on two cores fills the 64 KiB message before
 * the hold ends: 15 messages per MB, where a 2 ms hold gave 30 and each hop's CPU per MB went up
 * with them. A scrolling screen shows nothing of a 5 ms wait (a display frame is 16 ms).
 */
const STREAM = { holdMs: 5, fromBytes: 4 * 1024 };
