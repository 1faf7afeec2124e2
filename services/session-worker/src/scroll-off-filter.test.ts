import { describe, expect, it } from 'vitest';
import { textEnd } from './scroll-off-filter.js';

const ALLOWED_CONTROLS = new Set([0x07, 0x08, 0x09, 0x0a, 0x0d]);
const isText = (b: number): boolean =>
  (b >= 0x20 && b !== 0x7f && b !== 0xc2) || ALLOWED_CONTROLS.has(b);

describe('textEnd', () => {
  it('stops at the first byte that is not text, whatever its value, position and alignment', () => {
    // Long enough for the word-at-a-time scan, at every alignment of the buffer and the start.
    const backing = Buffer.alloc(200);
    for (let offset = 0; offset < 4; offset++) {
      const data = backing.subarray(offset, offset + 150);
      for (let from = 0; from < 4; from++) {
        for (const at of [from, from + 1, from + 37, from + 70, from + 71, 146, 147, 148, 149]) {
          for (let b = 0; b < 256; b++) {
            data.fill(0x61); // 'a'
            data[at] = b;
            if (at + 3 < data.length) data[at + 3] = 0x0a; // a line end nearby, in the same word
            const expected = isText(b) ? data.length : at;
            expect(textEnd(data, from)).toBe(expected);
          }
        }
      }
    }
  });

  it('goes through text of every kind: UTF-8, tabs, line ends, bell and backspace', () => {
    const text = Buffer.from('héllo\twörld 日本語 ✓\r\n\x07\x08'.repeat(20));
    expect(textEnd(text, 0)).toBe(text.length);
    expect(textEnd(Buffer.concat([text, Buffer.from('\x1b[0m')]), 0)).toBe(text.length);
  });
});
