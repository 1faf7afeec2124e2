import headlessPkg from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { HeadlessScreen } from './screen.js';

const { Terminal } = headlessPkg;

/** What a client shows after resetting to a snapshot: the text of every visible row. */
async function render(state: { cols: number; rows: number; data: string }): Promise<string[]> {
  const term = new Terminal({ cols: state.cols, rows: state.rows, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(state.data, resolve));
  const buffer = term.buffer.active;
  return Array.from(
    { length: state.rows },
    (_, i) => buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? '',
  );
}

describe('HeadlessScreen', () => {
  it('snapshots exactly what was written before the call, not after', async () => {
    const screen = new HeadlessScreen(20, 3);
    screen.write(Buffer.from('one\r\n'));
    const snap = screen.snapshot();
    screen.write(Buffer.from('two\r\n'));
    expect((await render(await snap))[0]).toBe('one');
    expect(await render(await snap)).not.toContain('two');
    screen.dispose();
  });

  it('carries the alternate screen, as a full-screen program leaves it', async () => {
    const screen = new HeadlessScreen(20, 3);
    screen.write(Buffer.from('shell prompt\r\n\x1b[?1049h\x1b[2J\x1b[HEDITOR TEXT\x1b[3;1H~'));
    const rows = await render(await screen.snapshot());
    expect(rows).toEqual(['EDITOR TEXT', '', '~']);
    screen.dispose();
  });

  it('applies a resize in order with the writes around it', async () => {
    const screen = new HeadlessScreen(10, 2);
    screen.write(Buffer.from('abc'));
    screen.resize(30, 4);
    const state = await screen.snapshot();
    expect(state).toMatchObject({ cols: 30, rows: 4 });
    expect((await render(state))[0]).toBe('abc');
    screen.dispose();
  });
});
