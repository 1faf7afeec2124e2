// Turning a session's record events into asciicast v2 lines: a JSON header, then one JSON array
// per event, [seconds, code, data]. Terminal bytes must become JSON strings, so a UTF-8 sequence
// split between two output chunks is carried over to the next one rather than mangled; the
// carry is part of the recorder's checkpoint, so a recorder taking over mid-sequence keeps it.
import type { RecordEvent, RecordingRequest } from '@sallyport/bus';

/** What the encoder must remember between chunks (stored in the recording's checkpoint). */
export interface CastState {
  /** Sequence number of the last output or resize written; 0 before any. */
  lastSeq: number;
  /** Seconds of the last event written, so times never go backwards. */
  lastTime: number;
  /** Output bytes that end in an incomplete UTF-8 sequence, base64. */
  tail: string;
  /** Who typed the last input written, so a marker names each new typist once. */
  typist: string | null;
}

export const initialCastState = (): CastState => ({
  lastSeq: 0,
  lastTime: 0,
  tail: '',
  typist: null,
});

export function castHeader(request: RecordingRequest): string {
  return JSON.stringify({
    version: 2,
    width: request.cols,
    height: request.rows,
    timestamp: Math.floor(request.startedAt / 1000),
    title: `${request.username}@${request.serverName}`,
    env: { TERM: 'xterm-256color' },
  });
}

export interface EncodedEvent {
  /** Lines to append (each without its newline). */
  lines: string[];
  /** Output or resizes that never reached the recorder before this event. */
  missing: number;
}

/** One session's events as cast lines, in order; duplicates (redelivered events) are dropped. */
export class CastEncoder {
  constructor(
    private readonly startedAt: number,
    readonly state: CastState,
  ) {}

  encode(event: RecordEvent): EncodedEvent {
    const lines: string[] = [];
    let missing = 0;
    if (event.type === 'output' || event.type === 'resize') {
      if (event.seq <= this.state.lastSeq) return { lines, missing };
      missing = event.seq - this.state.lastSeq - 1;
      this.state.lastSeq = event.seq;
    }
    const time = this.time(event.at);
    if (missing > 0) lines.push(this.line(time, 'm', `gap: ${missing} events were lost`));
    switch (event.type) {
      case 'output': {
        const text = this.decodeOutput(event.data);
        if (text) lines.push(this.line(time, 'o', text));
        break;
      }
      case 'resize':
        lines.push(this.line(time, 'r', `${event.cols}x${event.rows}`));
        break;
      case 'input':
        if (this.state.typist !== event.userId) {
          this.state.typist = event.userId;
          lines.push(this.line(time, 'm', `input by ${event.username} (${event.userId})`));
        }
        lines.push(this.line(time, 'i', event.data.toString('utf8')));
        break;
      case 'end': {
        const rest = this.flushTail();
        if (rest) lines.push(this.line(time, 'o', rest));
        break;
      }
    }
    return { lines, missing };
  }

  /** A marker at the latest time written: for gaps the recorder itself caused. */
  marker(label: string, at?: number): string {
    return this.line(at === undefined ? this.state.lastTime : this.time(at), 'm', label);
  }

  private line(time: number, code: string, data: string): string {
    return JSON.stringify([time, code, data]);
  }

  private time(at: number): number {
    const seconds = Math.round(Math.max(0, at - this.startedAt)) / 1000;
    this.state.lastTime = Math.max(this.state.lastTime, seconds);
    return this.state.lastTime;
  }

  private decodeOutput(data: Buffer): string {
    const bytes = this.state.tail
      ? Buffer.concat([Buffer.from(this.state.tail, 'base64'), data])
      : data;
    const complete = completeUtf8Length(bytes);
    this.state.tail = bytes.subarray(complete).toString('base64');
    return bytes.subarray(0, complete).toString('utf8');
  }

  private flushTail(): string {
    const text = Buffer.from(this.state.tail, 'base64').toString('utf8');
    this.state.tail = '';
    return text;
  }
}

/**
 * The length of the longest prefix that does not end inside a UTF-8 sequence. Only a sequence
 * that could still be completed is held back; invalid bytes pass (and decode as U+FFFD).
 */
export function completeUtf8Length(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needed = byte >= 0xf8 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}
