/**
 * Maps what a browser says it has rendered (bytes on its socket, snapshots included) to the
 * worker's stream offsets, which is what flow control is measured in.
 */
export class AckMap {
  /** Bytes sent on the socket, and bytes the browser acknowledged. */
  private sentBytes = 0;
  private ackedBytes = 0;
  /** Frames not yet acknowledged: where each ends on the socket and in the stream. */
  private readonly frames: Array<{ end: number; offsetEnd: number }> = [];
  /** The stream offset the browser has rendered up to: the end of its last complete frame. */
  completed = 0;
  /** The last offset passed on to the worker. */
  forwarded = 0;

  sent(bytes: number, offsetEnd: number): void {
    this.sentBytes += bytes;
    this.frames.push({ end: this.sentBytes, offsetEnd });
  }

  /** Records an ack: the frames it completes move `completed` on. */
  ack(bytes: number): void {
    this.ackedBytes = Math.max(this.ackedBytes, Math.min(bytes, this.sentBytes));
    while (this.frames.length > 0 && this.frames[0]!.end <= this.ackedBytes)
      this.completed = this.frames.shift()!.offsetEnd;
  }

  get unacked(): number {
    return this.sentBytes - this.ackedBytes;
  }

  get caughtUp(): boolean {
    return this.ackedBytes === this.sentBytes;
  }
}
