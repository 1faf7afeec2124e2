import { describe, expect, it } from 'vitest';
import { StampReader } from './stamps.js';

const line = (stamp: string, pad = 'xxxx') => `${stamp} ${pad}\r\n`;

describe('StampReader', () => {
  it('reads the stamp after every line end, as milliseconds', () => {
    const reader = new StampReader();
    const text = `$ for i in …\r\n${line('1700000000.123456')}${line('1700000001.000500')}`;
    expect(reader.read(Buffer.from(text))).toEqual([1700000000123.456, 1700000001000.5]);
    expect(reader.count).toBe(2);
  });

  it('finds a stamp split across chunks exactly once, wherever the split falls', () => {
    const text = `\r\n${line('1700000000.000001')}${line('1700000002,250000')}`;
    for (let cut = 0; cut <= text.length; cut++) {
      const reader = new StampReader();
      const stamps = [
        ...reader.read(Buffer.from(text.slice(0, cut))),
        ...reader.read(Buffer.from(text.slice(cut))),
      ];
      expect(stamps).toEqual([1700000000000.001, 1700000002250]);
    }
  });

  it('ignores lines that do not start with a stamp', () => {
    const reader = new StampReader();
    const text =
      '\n$ echo "$EPOCHREALTIME"\n17000000001234567 x\n1700000000.12345 x\nFANOUT_END_3\n';
    expect(reader.read(Buffer.from(text))).toEqual([]);
  });
});
