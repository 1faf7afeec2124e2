import serializePkg from '@xterm/addon-serialize';
import headlessPkg from '@xterm/headless';
import { ScrollOffFilter } from './scroll-off-filter.js';
import {
  hiddenStateOf,
  isAtRest,
  sameCells,
  readRestorable,
  restore,
  type RestorableState,
} from './terminal-state.js';

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
  /** A screen with no output or resize for this long is compacted (see compact()); 0: never. */
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

/** A compacted screen: what a terminal rebuilt from it draws, and is given back. */
interface Compacted extends ScreenState {
  restorable: RestorableState;
}

/** A terminal, and the addon that writes out its screen. */
interface Built {
  terminal: InstanceType<typeof Terminal>;
  serializer: InstanceType<typeof SerializeAddon>;
}

type CompactionResult = 'compacted' | 'busy' | 'refused';

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
  /** Writes and resizes so far, and when the last came. */
  private activity = 0;
  private lastActivityAt = 0;
  private compactTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(cols: number, rows: number, options: ScreenOptions) {
    this.cols = cols;
    this.rows = rows;
    this.scrollback = options.scrollback;
    this.compactAfterMs = options.compactAfterMs ?? 0;
    this.onParsed = options.onParsed ?? (() => undefined);
    this.filter = new ScrollOffFilter({
      feed: (data) => this.feed(data),
      checkRun: (answer) => {
        const terminal = this.terminal;
        this.queue('', () => {
          answer(isAtRest(terminal));
          this.onParsed(); // held output may have just been dropped
        });
      },
      linesToKeep: () =>
        2 * Math.max(this.rows, this.built?.terminal.rows ?? 0) + this.scrollback + 1,
      holdMs: HOLD_MS,
      maxHeldBytes: MAX_HELD_BYTES,
    });
  }

  /** Builds the terminal now, if nothing has yet. */
  prepare(): void {
    if (!this.built && !this.compacted && !this.disposed) this.build();
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
    if (this.disposed) return;
    this.noteActivity();
    this.filter.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.noteActivity();
    this.filter.flush();
    this.cols = cols;
    this.rows = rows;
    const terminal = this.terminal;
    this.queue('', () => terminal.resize(cols, rows));
  }

  /** The screen after everything written so far, and nothing written after this call. */
  snapshot(): Promise<ScreenState> {
    this.filter.flush();
    if (this.compacted || this.disposed) {
      const { cols, rows, data } = this.compacted ?? { ...this.size, data: '' };
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
   * Gives up the terminal, keeping the escape sequences that redraw it, if everything written
   * so far has been parsed and nothing more comes meanwhile, and if a terminal rebuilt from
   * them would be the same in every respect that later output or snapshots depend on (see
   * redrawsTheSame). Resolves whether it did.
   */
  async compact(): Promise<boolean> {
    return (await this.tryCompacting()) === 'compacted';
  }

  private tryCompacting(): Promise<CompactionResult> {
    const built = this.built;
    if (!built) return Promise.resolve('refused');
    if (this.unparsedBytes > 0) return Promise.resolve('busy');
    const activity = this.activity;
    return new Promise((resolve) => {
      // Given up after the callback has returned, not inside xterm's write loop.
      this.queue('', () => setImmediate(() => void this.compactNow(built, activity).then(resolve)));
    });
  }

  private async compactNow(built: Built, activity: number): Promise<CompactionResult> {
    const { terminal, serializer } = built;
    // Anything written, resized or queued since makes this attempt busy: it is tried again.
    const untouched = () =>
      this.built === built &&
      this.activity === activity &&
      this.queued === 0 &&
      this.unparsedBytes === 0;
    if (!untouched()) return 'busy';
    const restorable = readRestorable(terminal);
    const hidden = hiddenStateOf(terminal);
    if (!restorable || hidden === undefined || !isAtRest(terminal)) return 'refused';
    const { cols, rows } = terminal;
    const compacted = { cols, rows, data: serializer.serialize(), restorable };
    const same = await redrawsTheSame(terminal, compacted, hidden, this.scrollback);
    if (!untouched()) return 'busy';
    if (!same) return 'refused';
    this.compacted = compacted;
    this.disposeTerminal();
    return 'compacted';
  }

  private feed(data: Buffer): void {
    if (this.disposed) return;
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
    this.disposed = true;
    this.compacted = undefined;
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

  private get size(): { cols: number; rows: number } {
    return { cols: this.cols, rows: this.rows };
  }

  /** A terminal of the latest size, or the compacted screen's, redrawn. */
  private build(): Built {
    const compacted = this.compacted;
    if (!compacted) return (this.built = newTerminal(this.size, this.scrollback));
    this.compacted = undefined;
    const built = newTerminal(compacted, this.scrollback, compacted.restorable.altLength);
    this.built = built;
    // What the redraw does not carry (saved cursors, tab stops, ...) is given back before
    // anything written after it is parsed.
    this.queue(compacted.data, () => restore(built.terminal, compacted.restorable));
    return built;
  }

  /**
   * Compacting is tried once the screen has been quiet for compactAfterMs. Refused, it waits for
   * the next write or resize (the terminal stays as it is until then); busy, it tries again.
   */
  private noteActivity(): void {
    this.activity += 1;
    this.lastActivityAt = performance.now();
    if (this.compactAfterMs > 0 && !this.compactTimer) this.scheduleCompaction(this.compactAfterMs);
  }

  private scheduleCompaction(delayMs: number): void {
    this.compactTimer = setTimeout(() => {
      this.compactTimer = undefined;
      const quietFor = performance.now() - this.lastActivityAt;
      if (quietFor < this.compactAfterMs) {
        this.scheduleCompaction(this.compactAfterMs - quietFor);
        return;
      }
      // Quiet long enough: whatever the filter still holds (a run cut short inside a colour
      // change waits for its end) is given to the terminal now.
      this.filter.flush();
      void this.tryCompacting().then((result) => {
        if (result === 'busy' && !this.disposed && !this.compactTimer)
          this.scheduleCompaction(HOLD_MS);
      });
    }, delayMs);
    this.compactTimer.unref();
  }
}

/** @param altLength the rows to create it with, before it is resized to `rows` */
function newTerminal(
  { cols, rows }: { cols: number; rows: number },
  scrollback: number,
  altLength = rows,
): Built {
  const terminal = new Terminal({ cols, rows: altLength, scrollback, allowProposedApi: true });
  if (altLength !== rows) terminal.resize(cols, rows); // see RestorableState.altLength
  const serializer = new SerializeAddon();
  terminal.loadAddon(serializer);
  return { terminal, serializer };
}

/**
 * Whether a terminal rebuilt from a compacted screen is the one it was taken from: it must
 * serialize to the same sequences, hold the same cells (not every screen comes back cell for
 * cell: a wide character where a line wraps, blank cells with colours, origin mode restored after
 * the cursor), and the same hidden state (colours or character sets still selected, a scroll
 * region, which lines continue the one before, ...). What restore() gives back (saved cursors,
 * tab stops, ...) is part of that state too, and equal by construction: it is written back
 * before the comparison.
 */
function redrawsTheSame(
  original: InstanceType<typeof Terminal>,
  compacted: Compacted,
  hidden: string,
  scrollback: number,
): Promise<boolean> {
  const { terminal, serializer } = newTerminal(
    compacted,
    scrollback,
    compacted.restorable.altLength,
  );
  return new Promise((resolve) => {
    terminal.write(compacted.data, () => {
      restore(terminal, compacted.restorable);
      resolve(
        serializer.serialize() === compacted.data &&
          hiddenStateOf(terminal) === hidden &&
          sameCells(original, terminal),
      );
      setImmediate(() => terminal.dispose());
    });
  });
}
