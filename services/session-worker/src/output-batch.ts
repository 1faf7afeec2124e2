/**
 * Gathers the shell's output chunks for one event-loop turn and hands them on together.
 *
 * ssh2 emits one `data` event per SSH packet (often 1–4 KB), and a busy shell delivers many of
 * them in one socket read. Publishing each one costs a bus message, a WebSocket frame and a
 * browser write apiece; one per turn costs the same once. Nothing waits on a timer: the batch
 * goes out as soon as the current I/O callbacks are done, so keystroke echo is not delayed.
 * The chunks are not joined here: the bus message is the one copy they need.
 */
export class OutputBatch {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  /**
   * @param emit receives each batch (its chunks and their total length), in order
   * @param maxBytes a batch this large is emitted at once rather than at the end of the turn
   */
  constructor(
    private readonly emit: (chunks: readonly Buffer[], bytes: number) => void,
    private readonly maxBytes: number,
  ) {}

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= this.maxBytes) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Emits what is gathered now: whatever must follow the output so far calls this first. */
  flush(): void {
    if (this.bytes === 0) return;
    const { chunks, bytes } = this;
    this.chunks = [];
    this.bytes = 0;
    this.emit(chunks, bytes);
  }
}
