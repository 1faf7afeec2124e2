import serializePkg from '@xterm/addon-serialize';
import headlessPkg from '@xterm/headless';
import { ScrollOffFilter } from './scroll-off-filter.js';

const { Terminal } = headlessPkg;
const { SerializeAddon } = serializePkg;

// Plain text is held this long at most before the terminal parses it (see ScrollOffFilter).
const HOLD_MS = 50;
const MAX_HELD_BYTES = 512 * 1024;

export interface ScreenState {
  cols: number;
  rows: number;
  /** Escape sequences that rebuild the screen (both buffers, cursor, modes) on a reset terminal. */
  data: string;
}

/** The parts of xterm's internals that tell whether it may skip plain text (see atRest). */
interface TerminalInternals {
  _core?: {
    buffer?: { scrollTop?: number; scrollBottom?: number };
    _inputHandler?: {
      _parser?: { currentState?: number };
      _utf8Decoder?: { interim?: Uint8Array };
    };
  };
}

/**
 * A headless terminal fed the same bytes and resizes as every client, in the same order, so that
 * a joiner or a returning owner can be shown the exact screen. xterm parses writes
 * asynchronously, in order; a resize or a snapshot is therefore queued behind the writes before
 * it, and a snapshot describes precisely the stream up to the moment it was asked for. Plain
 * text that would scroll out unseen is not parsed at all (ScrollOffFilter).
 *
 * The terminal itself is built on first use, or by `prepare()`: building one takes about a
 * millisecond of CPU, which a session about to connect should not spend before it connects.
 */
export class HeadlessScreen {
  private built: InstanceType<typeof Terminal> | undefined;
  private readonly serializer = new SerializeAddon();
  private readonly filter: ScrollOffFilter;
  /** The latest columns asked for (the terminal takes them once the writes before are parsed). */
  private cols: number;
  /** The latest rows asked for, likewise. */
  private rows: number;
  private unparsed = 0;

  /**
   * @param scrollback lines of history kept (SALLYPORT_SCREEN_SCROLLBACK_LINES; each costs about
   *   1.4 KB on every session)
   * @param onParsed called each time the terminal has parsed a write (unparsedBytes fell)
   */
  constructor(
    cols: number,
    rows: number,
    private readonly scrollback: number,
    private readonly onParsed: () => void = () => undefined,
  ) {
    this.cols = cols;
    this.rows = rows;
    this.filter = new ScrollOffFilter({
      feed: (data) => this.feed(data),
      checkRun: (answer) =>
        this.terminal.write('', () => {
          answer(this.atRest());
          this.onParsed(); // held output may have just been dropped
        }),
      linesToKeep: () => 2 * Math.max(this.rows, this.terminal.rows) + scrollback + 1,
      holdMs: HOLD_MS,
      maxHeldBytes: MAX_HELD_BYTES,
    });
  }

  /** Builds the terminal now, if nothing has yet. */
  prepare(): void {
    this.built ??= this.build();
  }

  /**
   * Output not parsed yet (given to the terminal, or held back while it catches up): the
   * terminal parses more slowly than SSH delivers.
   */
  get unparsedBytes(): number {
    return this.unparsed + this.filter.heldBytes;
  }

  /** Output bytes the terminal was spared parsing. */
  get skippedBytes(): number {
    return this.filter.droppedBytes;
  }

  write(data: Buffer): void {
    this.filter.write(data);
  }

  resize(cols: number, rows: number): void {
    this.filter.flush();
    this.cols = cols;
    this.rows = rows;
    this.terminal.write('', () => this.terminal.resize(cols, rows));
  }

  /** The screen after everything written so far, and nothing written after this call. */
  snapshot(): Promise<ScreenState> {
    this.filter.flush();
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

  private feed(data: Buffer): void {
    this.unparsed += data.length;
    this.terminal.write(data, () => {
      this.unparsed -= data.length;
      this.onParsed();
    });
  }

  dispose(): void {
    this.filter.dispose();
    this.built?.dispose();
  }

  private get terminal(): InstanceType<typeof Terminal> {
    return (this.built ??= this.build());
  }

  private build(): InstanceType<typeof Terminal> {
    const { cols, rows, scrollback } = this;
    const terminal = new Terminal({ cols, rows, scrollback, allowProposedApi: true });
    terminal.loadAddon(this.serializer);
    return terminal;
  }

  /**
   * True when plain text can be skipped: no escape sequence or UTF-8 character half-parsed, and
   * no scroll region (lines outside one never scroll out). Read from xterm's internals; if a
   * new version moves them, this says false and every byte is parsed as before.
   */
  private atRest(): boolean {
    const core = (this.terminal as unknown as TerminalInternals)._core;
    const buffer = core?.buffer;
    return (
      core?._inputHandler?._parser?.currentState === 0 &&
      core._inputHandler._utf8Decoder?.interim?.[0] === 0 &&
      buffer?.scrollTop === 0 &&
      buffer.scrollBottom === this.terminal.rows - 1
    );
  }
}
