// Line stamps in a terminal stream: lines that start with the shell's $EPOCHREALTIME, whose
// arrival time minus the stamp is the delivery lag (scenarios/fanout.ts).

// "1700000000.123456 " after a line end: ten digits of seconds, a decimal point (a comma in
// some locales), six of microseconds, a space.
const STAMP_BYTES = 18;

/**
 * Finds the line stamps in a terminal stream fed chunk by chunk, as wall-clock milliseconds.
 * It scans bytes for line ends rather than decoding text: fifty joiners at 1 MB/s each are
 * 50 MB/s through this one process, whose own delay would otherwise count as lag.
 */
export class StampReader {
  /** Stamps found so far. */
  count = 0;
  /** The end of the last chunk from its last unread line end on, when a stamp may straddle. */
  private rest = Buffer.alloc(0);

  read(chunk: Buffer): number[] {
    const buf = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = Buffer.alloc(0);
    const stamps: number[] = [];
    for (let at = buf.indexOf(0x0a); at !== -1; at = buf.indexOf(0x0a, at + 1)) {
      if (at + 1 + STAMP_BYTES > buf.length) {
        this.rest = Buffer.from(buf.subarray(at));
        break;
      }
      const stamp = parseStamp(buf, at + 1);
      if (stamp !== undefined) stamps.push(stamp);
    }
    this.count += stamps.length;
    return stamps;
  }
}

function parseStamp(buf: Buffer, start: number): number | undefined {
  let seconds = 0;
  let micros = 0;
  for (let i = 0; i < STAMP_BYTES - 1; i++) {
    const c = buf[start + i]!;
    if (i === 10) {
      if (c !== 0x2e && c !== 0x2c) return undefined;
    } else if (c < 0x30 || c > 0x39) {
      return undefined;
    } else if (i < 10) {
      seconds = seconds * 10 + (c - 0x30);
    } else {
      micros = micros * 10 + (c - 0x30);
    }
  }
  if (buf[start + STAMP_BYTES - 1] !== 0x20) return undefined;
  return seconds * 1000 + micros / 1000;
}
