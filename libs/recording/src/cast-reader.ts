// Reading a cast back: its lines, its events, and what the Recordings page builds on them
// (plain text, search). Everything streams, one chunk at a time.
import { PlainText } from './text.js';

export type CastEvent = [time: number, code: string, data: string];

/** Splits text chunks into lines, holding only the unfinished last one. */
export async function* castLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let partial = '';
  for await (const chunk of chunks) {
    const parts = (partial + decoder.decode(chunk, { stream: true })).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line) yield line;
  }
  partial += decoder.decode();
  if (partial) yield partial;
}

/** The events after the header line. */
export async function* castEvents(lines: AsyncIterable<string>): AsyncGenerator<CastEvent> {
  let header = true;
  for await (const line of lines) {
    if (header) {
      header = false;
      continue;
    }
    yield JSON.parse(line) as CastEvent;
  }
}

/** The output as plain text. */
export async function* castText(events: AsyncIterable<CastEvent>): AsyncGenerator<string> {
  const text = new PlainText();
  for await (const [, code, data] of events) {
    if (code !== 'o') continue;
    const plain = text.feed(data);
    if (plain) yield plain;
  }
}

export interface SearchHit {
  /** Seconds into the recording when the text had appeared. */
  time: number;
  /** The line it appeared on, up to the match. */
  context: string;
}

const CONTEXT_CHARS = 80;

/** Every time `query` appeared in the output (case-insensitive), up to `limit` hits. */
export async function searchCast(
  events: AsyncIterable<CastEvent>,
  query: string,
  limit: number,
): Promise<SearchHit[]> {
  const needle = query.toLowerCase();
  const text = new PlainText();
  const hits: SearchHit[] = [];
  // The end of the text so far: a match may begin in an earlier event than it ends in.
  let carry = '';
  for await (const [time, code, data] of events) {
    if (code !== 'o') continue;
    const plain = text.feed(data);
    if (!plain) continue;
    const window = carry + plain;
    const lower = window.toLowerCase();
    for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + 1)) {
      // Matches wholly inside the carry were reported with the event that completed them.
      if (at + needle.length <= carry.length) continue;
      const lineStart = window.lastIndexOf('\n', at) + 1;
      const start = Math.max(lineStart, at + needle.length - CONTEXT_CHARS);
      hits.push({ time, context: window.slice(start, at + needle.length) });
      if (hits.length >= limit) return hits;
    }
    carry = window.slice(-Math.max(CONTEXT_CHARS, needle.length - 1));
  }
  return hits;
}
