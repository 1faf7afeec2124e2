import serializePkg from '@xterm/addon-serialize';
import headlessPkg from '@xterm/headless';
import { ScrollOffFilter } from './scroll-off-filter.js';

const { Terminal } = headlessPkg;
const { SerializeAddon } = serializePkg;

// Plain text is held this long at most before the terminal parses it (see ScrollOffFilter).
const HOLD_MS = 50;
const MAX_HELD_BYTES = 512 * 1024;

export interface ScreenOptions {
  /**
   * Lines of history kept (SALLYPORT_SCREEN_SCROLLBACK_LINES; each costs about 1.4 KB while the
   * screen is not compacted).
   */
  scrollback: number;
  /** A screen nothing was written to for this long is compacted (see compact()); 0: never. */
  compactAfterMs?: number;
  /** Called each time the terminal has parsed a write (unparsedBytes fell). */
  onParsed?: () => void;
}

export interface ScreenState {
  cols: number;
  rows: number;
  /** Escape sequences that rebuild the screen (both buffers, cursor, modes) on a reset terminal. */
  data: string;
}

/** The parts of xterm's internals that tell whether it may skip plain text (see atRest). */
interface TerminalInternals {
  _core?: {
    buffer?: BufferInternals;
    buffers?: { normal?: BufferInternals; alt?: BufferInternals };
    _inputHandler?: {
      _parser?: { currentState?: number };
      _utf8Decoder?: { interim?: Uint8Array };
      _curAttrData?: AttributesInternals;
    };
    _charsetService?: { glevel?: number; charset?: unknown; _charsets?: unknown[] };
  };
}

interface BufferInternals {
  x?: number;
  scrollTop?: number;
  scrollBottom?: number;
  savedX?: number;
  savedY?: number;
  savedCurAttrData?: AttributesInternals;
  savedCharset?: unknown;
  tabs?: Record<number, boolean>;
  lines?: {
    length: number;
    maxLength?: number;
    get(index: number): { isWrapped?: boolean } | undefined;
  };
}

/** Colours and styles: both zero when nothing is set (extended attributes live behind bg). */
interface AttributesInternals {
  fg?: number;
  bg?: number;
}

/** A compacted screen: what a terminal rebuilt from it must draw, and be. */
interface Compacted extends ScreenState {
  /**
   * How many lines xterm's alternate buffer, unused, will hold when a program enters it: the
   * rows it had when last cleared, as resizing an empty buffer leaves that unchanged. A terminal
   * built this tall and then resized holds the same.
   */
  altLength: number;
}

type TerminalShape = Pick<Compacted, 'cols' | 'rows' | 'altLength'>;

/** A terminal, and the addon that writes out its screen. */
interface Built {
  terminal: InstanceType<typeof Terminal>;
  serializer: InstanceType<typeof SerializeAddon>;
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
 *
 * A quiet screen is compacted: a terminal with its history costs about 300 KB, the escape
 * sequences that redraw it a few KB at most, and most sessions sit at a prompt most of the
 * time. The terminal is rebuilt from those sequences when output comes or the size changes; a
 * snapshot of a compacted screen is the sequences themselves.
 */
export class HeadlessScreen {
  private built: Built | undefined;
  /** The screen while it is compacted: what the terminal held when it was given up. */
  private compacted: Compacted | undefined;
  private readonly filter: ScrollOffFilter;
  private readonly scrollback: number;
  private readonly compactAfterMs: number;
  private readonly onParsed: () => void;
  /** The latest columns asked for (the terminal takes them once the writes before are parsed). */
  private cols: number;
  /** The latest rows asked for, likewise. */
  private rows: number;
  private unparsed = 0;
  /** Writes given to the terminal whose callbacks have not run yet. */
  private queued = 0;
  private lastWriteAt = 0;
  private compactTimer: NodeJS.Timeout | undefined;

  constructor(cols: number, rows: number, options: ScreenOptions) {
    this.cols = cols;
    this.rows = rows;
    this.scrollback = options.scrollback;
    this.compactAfterMs = options.compactAfterMs ?? 0;
    this.onParsed = options.onParsed ?? (() => undefined);
    this.filter = new ScrollOffFilter({
      feed: (data) => this.feed(data),
      checkRun: (answer) =>
        this.queue('', () => {
          answer(this.atRest(this.terminal));
          this.onParsed(); // held output may have just been dropped
        }),
      linesToKeep: () =>
        2 * Math.max(this.rows, this.built?.terminal.rows ?? 0) + this.scrollback + 1,
      holdMs: HOLD_MS,
      maxHeldBytes: MAX_HELD_BYTES,
    });
  }

  /** Builds the terminal now, if nothing has yet. */
  prepare(): void {
    if (!this.built && !this.compacted) this.build();
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

  /** Whether the screen is compacted now (it has no terminal). */
  get isCompacted(): boolean {
    return this.compacted !== undefined;
  }

  write(data: Buffer): void {
    this.noteWrite();
    this.filter.write(data);
  }

  resize(cols: number, rows: number): void {
    this.noteWrite();
    this.filter.flush();
    this.cols = cols;
    this.rows = rows;
    const terminal = this.terminal;
    this.queue('', () => terminal.resize(cols, rows));
  }

  /** The screen after everything written so far, and nothing written after this call. */
  snapshot(): Promise<ScreenState> {
    this.filter.flush();
    if (this.compacted) {
      const { cols, rows, data } = this.compacted;
      return Promise.resolve({ cols, rows, data });
    }
    const { terminal, serializer } = this.built ?? this.build();
    return new Promise((resolve) => {
      this.queue('', () =>
        resolve({ cols: terminal.cols, rows: terminal.rows, data: serializer.serialize() }),
      );
    });
  }

  /**
   * Gives up the terminal, keeping the escape sequences that redraw it, once everything written
   * so far is parsed. It keeps the terminal if more output comes meanwhile, or if a terminal
   * rebuilt from those sequences would differ from it (see redrawsExactly and redrawsTheSame):
   * the rebuilt one would then show a later snapshot differently. Resolves whether it did.
   */
  compact(): Promise<boolean> {
    const built = this.built;
    if (!built || this.unparsedBytes > 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      // Given up after the callback has returned, not inside xterm's write loop.
      this.queue('', () => setImmediate(() => void this.compactNow(built).then(resolve)));
    });
  }

  private async compactNow(built: Built): Promise<boolean> {
    const { terminal, serializer } = built;
    const untouched = () => this.built === built && this.queued === 0 && this.unparsedBytes === 0;
    const altLength = (terminal as unknown as TerminalInternals)._core?.buffers?.alt?.lines
      ?.maxLength;
    if (!untouched() || altLength === undefined) return false;
    if (!this.redrawsExactly(terminal)) return false;
    const { cols, rows } = terminal;
    const compacted = { cols, rows, data: serializer.serialize(), altLength };
    // Not every screen comes back cell for cell (a wide character where a line wraps, say).
    if (!(await redrawsTheSame(compacted, this.scrollback)) || !untouched()) return false;
    this.compacted = compacted;
    this.disposeTerminal();
    return true;
  }

  private feed(data: Buffer): void {
    this.unparsed += data.length;
    this.queue(data, () => {
      this.unparsed -= data.length;
      this.onParsed();
    });
  }

  private queue(data: Buffer | string, parsed: () => void): void {
    this.queued += 1;
    this.terminal.write(data, () => {
      this.queued -= 1;
      parsed();
    });
  }

  dispose(): void {
    clearTimeout(this.compactTimer);
    this.filter.dispose();
    this.disposeTerminal();
  }

  private disposeTerminal(): void {
    this.built?.terminal.dispose();
    this.built = undefined;
  }

  private get terminal(): InstanceType<typeof Terminal> {
    return (this.built ?? this.build()).terminal;
  }

  /** A terminal of the latest size, or of the compacted screen's (which it then redraws). */
  private build(): Built {
    const compacted = this.compacted;
    this.built = newTerminal(compacted ?? this.shape, this.scrollback);
    if (compacted) {
      this.compacted = undefined;
      this.queue(compacted.data, () => undefined);
    }
    return this.built;
  }

  /** The latest size, on a terminal never resized. */
  private get shape(): TerminalShape {
    return { cols: this.cols, rows: this.rows, altLength: this.rows };
  }

  /**
   * Compaction is tried once the screen has been quiet for compactAfterMs after a write; if it is
   * refused, the next write sets it going again (the terminal cannot change in between).
   */
  private noteWrite(): void {
    this.lastWriteAt = performance.now();
    if (this.compactAfterMs > 0 && !this.compactTimer) this.scheduleCompaction(this.compactAfterMs);
  }

  private scheduleCompaction(delayMs: number): void {
    this.compactTimer = setTimeout(() => {
      this.compactTimer = undefined;
      const quietFor = performance.now() - this.lastWriteAt;
      if (quietFor < this.compactAfterMs) this.scheduleCompaction(this.compactAfterMs - quietFor);
      // Output still held or being parsed: not quiet yet.
      else if (this.unparsedBytes > 0) this.scheduleCompaction(HOLD_MS);
      else void this.compact();
    }, delayMs);
    this.compactTimer.unref();
  }

  /**
   * True when plain text can be skipped: no escape sequence or UTF-8 character half-parsed, and
   * no scroll region (lines outside one never scroll out). Read from xterm's internals; if a
   * new version moves them, this says false and every byte is parsed as before.
   */
  private atRest(terminal: InstanceType<typeof Terminal>): boolean {
    const core = (terminal as unknown as TerminalInternals)._core;
    const buffer = core?.buffer;
    return (
      core?._inputHandler?._parser?.currentState === 0 &&
      core._inputHandler._utf8Decoder?.interim?.[0] === 0 &&
      buffer?.scrollTop === 0 &&
      buffer.scrollBottom === terminal.rows - 1
    );
  }

  /**
   * True when nothing about the terminal that the SerializeAddon leaves out can change what later
   * output does: it writes the cells, the cursor and the modes, not the colours and character
   * set selected now, saved cursors, tab stops, or whether the oldest line continues one dropped
   * from the history; so these must be as a new terminal has them. It must also be at rest
   * (atRest). Read from xterm's internals, like atRest.
   */
  private redrawsExactly(terminal: InstanceType<typeof Terminal>): boolean {
    const core = (terminal as unknown as TerminalInternals)._core;
    const charsets = core?._charsetService;
    const buffers = [core?.buffers?.normal, core?.buffers?.alt];
    return (
      this.atRest(terminal) &&
      isReset(core?._inputHandler?._curAttrData) &&
      charsets?.glevel === 0 &&
      charsets.charset === undefined &&
      Array.isArray(charsets._charsets) &&
      charsets._charsets.every((charset) => charset === undefined) &&
      buffers.every(
        (buffer) =>
          buffer?.savedX === 0 &&
          buffer.savedY === 0 &&
          buffer.savedCharset === undefined &&
          isReset(buffer.savedCurAttrData) &&
          hasDefaultTabStops(buffer, terminal.cols) &&
          startsWholeLine(buffer),
      )
    );
  }
}

function newTerminal({ cols, rows, altLength }: TerminalShape, scrollback: number): Built {
  const terminal = new Terminal({ cols, rows: altLength, scrollback, allowProposedApi: true });
  if (altLength !== rows) terminal.resize(cols, rows); // see Compacted.altLength
  const serializer = new SerializeAddon();
  terminal.loadAddon(serializer);
  return { terminal, serializer };
}

/** Whether a terminal rebuilt from a compacted screen serializes back to the same sequences. */
function redrawsTheSame(compacted: Compacted, scrollback: number): Promise<boolean> {
  const { terminal, serializer } = newTerminal(compacted, scrollback);
  return new Promise((resolve) => {
    terminal.write(compacted.data, () => {
      resolve(serializer.serialize() === compacted.data);
      setImmediate(() => terminal.dispose());
    });
  });
}

function isReset(attributes: AttributesInternals | undefined): boolean {
  return attributes?.fg === 0 && attributes.bg === 0;
}

/**
 * False when the oldest line kept is the continuation of a wrapped line whose start has been
 * dropped: redrawn, it would be a line of its own, and a resize would rewrap it differently.
 */
function startsWholeLine(buffer: BufferInternals): boolean {
  const lines = buffer.lines;
  return lines !== undefined && (lines.length === 0 || lines.get(0)?.isWrapped === false);
}

/** A tab stop every 8 columns and nowhere else, as a terminal starts (or stops beyond it). */
function hasDefaultTabStops(buffer: BufferInternals, cols: number): boolean {
  const tabs = buffer.tabs ?? {};
  for (let column = 0; column < cols; column += 8) if (!tabs[column]) return false;
  return Object.keys(tabs).every((column) => Number(column) % 8 === 0);
}
