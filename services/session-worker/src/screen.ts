import serializePkg from '@xterm/addon-serialize';
import headlessPkg from '@xterm/headless';

const { Terminal } = headlessPkg;
const { SerializeAddon } = serializePkg;

// Enough history for someone who joins or comes back to scroll up a little; each line costs
// memory on every session, so not more.
const SCROLLBACK_LINES = 500;

export interface ScreenState {
  cols: number;
  rows: number;
  /** Escape sequences that rebuild the screen (both buffers, cursor, modes) on a reset terminal. */
  data: string;
}

/**
 * A headless terminal fed the same bytes and resizes as every client, in the same order, so that
 * a joiner or a returning owner can be shown the exact screen. xterm parses writes
 * asynchronously, in order; a resize or a snapshot is therefore queued behind the writes before
 * it, and a snapshot describes precisely the stream up to the moment it was asked for.
 */
export class HeadlessScreen {
  private readonly terminal: InstanceType<typeof Terminal>;
  private readonly serializer = new SerializeAddon();

  constructor(cols: number, rows: number) {
    this.terminal = new Terminal({
      cols,
      rows,
      scrollback: SCROLLBACK_LINES,
      allowProposedApi: true,
    });
    this.terminal.loadAddon(this.serializer);
  }

  write(data: Buffer): void {
    this.terminal.write(data);
  }

  resize(cols: number, rows: number): void {
    this.terminal.write('', () => this.terminal.resize(cols, rows));
  }

  /** The screen after everything written so far, and nothing written after this call. */
  snapshot(): Promise<ScreenState> {
    return new Promise((resolve) => {
      this.terminal.write('', () =>
        resolve({
          cols: this.terminal.cols,
          rows: this.terminal.rows,
          data: this.serializer.serialize(),
        }),
      );
    });
  }

  dispose(): void {
    this.terminal.dispose();
  }
}
