/**
 * Keeps the headless screen from parsing output that scrolls out of it unseen.
 *
 * Parsing every byte into the worker's headless terminal costs about as much CPU as everything
 * else on the output path together. Yet when a shell prints a long run of plain text (a build
 * log, `cat` of a big file), only the last lines of it can still be on the screen or in the
 * scrollback afterwards: a terminal fed just those lines ends up cell-for-cell the same. So the
 * filter holds a run of plain text briefly and, once it has more than `linesToKeep` lines, drops
 * its head.
 *
 * Why that is exact: let the run be cut at a "\r\n" that is followed, in the same run, by at
 * least 2 × rows + scrollback line feeds. Whatever row the cursor was on, those line feeds
 * scroll out every line that existed before the cut — the old screen and scrollback, or the
 * dropped text's lines — and every line left was written after the cut, from column 0, by the
 * same bytes. "Plain" admits only what cannot change the terminal's state beyond the cursor and
 * the cells it writes: printable text, CR, LF, tab, backspace, bell, and colour changes (SGR),
 * which do carry into what follows and are therefore still fed, without the dropped text. Scroll
 * regions, cursor moves, and anything else end the run. The terminal itself must be at rest when
 * a run is cut (no escape sequence or UTF-8 character half-parsed, no scroll region): `checkRun`
 * asks it, before anything is dropped.
 */
export interface ScrollOffFilterOptions {
  /** Receives, in order, everything the terminal must parse. */
  feed(data: Buffer): void;
  /**
   * Asked once per run, before the first cut: can the terminal, as it is after everything fed
   * so far, have plain text dropped? (Nothing is fed while the question is open.)
   */
  checkRun(answer: (ok: boolean) => void): void;
  /** Line feeds that must follow a cut: 2 × rows + scrollback (+1 for safety). */
  linesToKeep(): number;
  /** A run is fed at the latest this long after it began, so an idle session holds nothing. */
  holdMs: number;
  /**
   * A run holding this many bytes is fed (lines too long to drop any) — unless it is waiting
   * for `checkRun`'s answer, which comes once the terminal has parsed what it was given
   * before: the run keeps holding, and `heldBytes` tells the caller to slow the output down.
   */
  maxHeldBytes: number;
}

const ESC = 0x1b;
const CR = 0x0d;
const LF = 0x0a;
const LEFT_BRACKET = 0x5b;
const LOWER_M = 0x6d;

/**
 * Outside escape sequences a run holds text (including UTF-8), CR, LF, tab, backspace and bell.
 * These bytes end or interrupt that: ESC, every other control, DEL, and the UTF-8 lead byte 0xC2,
 * which also encodes the C1 controls U+0080–U+009F.
 */
const NOT_TEXT = new Uint8Array(256);
for (let b = 0x00; b <= 0x1f; b++) NOT_TEXT[b] = 1;
for (const b of [0x07, 0x08, 0x09, LF, CR]) NOT_TEXT[b] = 0;
NOT_TEXT[0x7f] = 1;
NOT_TEXT[0xc2] = 1;

/** Parameter bytes of an SGR sequence: digits, ':' and ';'. */
const SGR_PARAM = new Uint8Array(256);
for (let b = 0x30; b <= 0x3b; b++) SGR_PARAM[b] = 1;

interface Run {
  /** The held bytes; positions count every byte since the run began, dropped ones too. */
  chunks: Buffer[];
  heldFrom: number;
  length: number;
  /** Positions of the CR of each "\r\n" where the run may be cut. */
  cuts: number[];
  /** Colour changes in the held part, as [start, end) positions. */
  sgrs: Array<[number, number]>;
  /** 'no': the terminal said it cannot drop; this run's bytes go straight through. */
  check: 'not asked' | 'asked' | 'yes' | 'no';
  timer: NodeJS.Timeout | undefined;
}

export class ScrollOffFilter {
  private scan: 'text' | 'esc' | 'csi' = 'text';
  /** The last two bytes of the previous write. */
  private secondLast = 0;
  private last = 0;
  /** Run position of the ESC that began the sequence being scanned. */
  private escAt = 0;
  private run: Run = newRun();
  /** Bytes never fed to the terminal, for the metrics and the tests. */
  droppedBytes = 0;

  constructor(private readonly options: ScrollOffFilterOptions) {}

  write(data: Buffer): void {
    /** Where the current run's part of `data` begins (a run position is counted from there). */
    let from = 0;
    let i = 0;
    while (i < data.length) {
      const b = data[i]!;
      let plain = true;
      if (this.scan === 'text') {
        const stop = textEnd(data, i);
        this.noteLineEnds(data, i, stop, from);
        if (stop === data.length) break;
        i = stop;
        if (data[i] === ESC) {
          this.scan = 'esc';
          this.escAt = this.run.length + (i - from);
        } else {
          plain = false;
        }
      } else if (this.scan === 'esc') {
        if (b === LEFT_BRACKET) this.scan = 'csi';
        else plain = false;
      } else if (b === LOWER_M) {
        this.run.sgrs.push([this.escAt, this.run.length + (i - from) + 1]);
        this.scan = 'text';
      } else if (!SGR_PARAM[b]) {
        plain = false;
      }
      if (!plain) {
        // The run ends with this byte; the next begins after it. The rest of its escape
        // sequence is then parsed as the next run's text, which is why each run asks the
        // terminal whether it is at rest before anything is dropped.
        this.hold(data.subarray(from, i + 1));
        this.flush();
        this.scan = 'text';
        from = i + 1;
      }
      i += 1;
    }
    this.hold(data.subarray(from));
    if (data.length > 0) {
      this.secondLast = data.length >= 2 ? data[data.length - 2]! : this.last;
      this.last = data[data.length - 1]!;
    }
    this.cutIfPossible();
  }

  /** Records the "\r\n"s in data[start, end) where the run could be cut. */
  private noteLineEnds(data: Buffer, start: number, end: number, from: number): void {
    const byteAt = (k: number): number =>
      k >= 0 ? data[k]! : k === -1 ? this.last : this.secondLast;
    for (let lf = data.indexOf(LF, start); lf !== -1 && lf < end; lf = data.indexOf(LF, lf + 1)) {
      const crAt = this.run.length + (lf - 1 - from);
      // Not at a CR of an earlier run, and not right after a half-written UTF-8 character,
      // which would make the terminal parse the CR differently.
      if (crAt >= 0 && byteAt(lf - 1) === CR && byteAt(lf - 2) < 0x80) this.run.cuts.push(crAt);
    }
  }

  /** Feeds everything held: whatever reads the screen next must see all output so far. */
  flush(): void {
    const run = this.run;
    this.run = newRun();
    // A sequence begun in the last run goes on in this one, which is never cut: the terminal
    // is not at rest when it starts.
    this.escAt = 0;
    clearTimeout(run.timer);
    for (const chunk of run.chunks) this.options.feed(chunk);
  }

  /** Forgets what is held (the terminal is going away). */
  dispose(): void {
    clearTimeout(this.run.timer);
    this.run = newRun();
  }

  /** Output held back from the terminal (not dropped, not fed yet). */
  get heldBytes(): number {
    return this.run.check === 'no' ? 0 : this.run.length - this.run.heldFrom;
  }

  private hold(data: Buffer): void {
    if (data.length === 0) return;
    const run = this.run;
    run.timer ??= this.feedLater(run);
    run.length += data.length;
    if (run.check === 'no') return this.options.feed(data);
    run.chunks.push(data);
    if (run.check !== 'asked' && this.heldBytes > this.options.maxHeldBytes) this.flush();
  }

  /**
   * Feeds the run after holdMs; later if it is waiting for its answer then, or ends inside a
   * colour change (fed half-way, the terminal would not be at rest for the next run).
   */
  private feedLater(run: Run): NodeJS.Timeout {
    return setTimeout(() => {
      if (this.run !== run) return;
      if (run.check === 'asked' || this.scan !== 'text') run.timer = this.feedLater(run);
      else this.flush();
    }, this.options.holdMs).unref();
  }

  private cutIfPossible(): void {
    const run = this.run;
    const keep = this.options.linesToKeep();
    if (run.cuts.length <= keep) return;
    if (run.check === 'not asked') {
      run.check = 'asked';
      // Nothing is fed while the question is open, so the answer is about the terminal as it
      // was when this run began.
      this.options.checkRun((ok) => {
        if (this.run !== run) return; // fed meanwhile
        if (ok) {
          run.check = 'yes';
          this.cutIfPossible();
          if (this.heldBytes > this.options.maxHeldBytes) this.flush();
          return;
        }
        run.check = 'no';
        for (const chunk of run.chunks.splice(0)) this.options.feed(chunk);
        run.heldFrom = run.length;
        run.cuts = [];
        run.sgrs = [];
      });
    }
    // Cutting costs a copy of the `keep` cut positions: waiting until there are twice as many
    // makes it cheap per line, for a few more lines held.
    if (run.check !== 'yes' || run.cuts.length <= 2 * keep) return;
    this.cut(run, run.cuts.length - keep);
  }

  /**
   * Drops the held bytes before the cut at `cutIndex`. Their colour changes still apply to what
   * follows, so the terminal gets those (and nothing else) now: nothing else is fed until the
   * kept part, so they land just where the dropped text was.
   */
  private cut(run: Run, cutIndex: number): void {
    const at = run.cuts[cutIndex]!;
    run.cuts = run.cuts.slice(cutIndex);
    let count = 0;
    while (count < run.sgrs.length && run.sgrs[count]![0] < at) count++;
    const dropped = run.sgrs.slice(0, count);
    let colours: Buffer[] = [];
    for (const [start, end] of dropped) {
      const seq = this.heldSlice(run, start, end);
      if (resetsAll(seq)) colours = [];
      colours.push(seq);
    }
    if (colours.length > 0) this.options.feed(Buffer.concat(colours));
    run.sgrs = run.sgrs.slice(count);
    let chunkStart = run.heldFrom;
    while (chunkStart + run.chunks[0]!.length <= at) chunkStart += run.chunks.shift()!.length;
    run.chunks[0] = run.chunks[0]!.subarray(at - chunkStart);
    this.droppedBytes += at - run.heldFrom;
    run.heldFrom = at;
  }

  /** The held bytes between two run positions (they may span chunks). */
  private heldSlice(run: Run, start: number, end: number): Buffer {
    const parts: Buffer[] = [];
    let chunkStart = run.heldFrom;
    for (const chunk of run.chunks) {
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd > start && chunkStart < end)
        parts.push(chunk.subarray(Math.max(start - chunkStart, 0), end - chunkStart));
      chunkStart = chunkEnd;
    }
    return Buffer.concat(parts);
  }
}

/** The index of the first byte at or after `from` that is not text, or data.length. */
export function textEnd(data: Uint8Array, from: number): number {
  const length = data.length;
  let i = from;
  // Most output is long runs of text: look at four bytes at a time where there are enough.
  if (length - i >= WORDWISE_FROM) {
    while ((data.byteOffset + i) % 4 !== 0) {
      if (NOT_TEXT[data[i]!] !== 0) return i;
      i++;
    }
    const words = new Uint32Array(data.buffer, data.byteOffset + i, (length - i) >>> 2);
    for (let w = 0; w < words.length; w++) {
      if (mayHoldNonText(words[w]!)) {
        // A word may be flagged for a tab or a line end: find out byte by byte.
        for (let k = i + w * 4; k < i + w * 4 + 4; k++) if (NOT_TEXT[data[k]!] !== 0) return k;
      }
    }
    i += words.length * 4;
  }
  while (i < length && NOT_TEXT[data[i]!] === 0) i++;
  return i;
}

/** Below this many bytes a word view costs more than it saves. */
const WORDWISE_FROM = 64;

/**
 * Whether any of a word's four bytes is a control (< 0x20), DEL or 0xC2 — every byte NOT_TEXT
 * flags, and the allowed controls too (the caller checks those bytes one by one). The usual
 * "has a zero byte" bit trick: `(v - 0x01010101) & ~v & 0x80808080` is non-zero exactly when
 * some byte of v is zero; for "< 0x20" subtract 0x20 from each byte instead.
 */
function mayHoldNonText(x: number): boolean {
  const del = x ^ 0x7f7f7f7f;
  const c2 = x ^ 0xc2c2c2c2;
  return (
    ((x - 0x20202020) & ~x & 0x80808080) !== 0 ||
    ((del - 0x01010101) & ~del & 0x80808080) !== 0 ||
    ((c2 - 0x01010101) & ~c2 & 0x80808080) !== 0
  );
}

function newRun(): Run {
  return {
    chunks: [],
    heldFrom: 0,
    length: 0,
    cuts: [],
    sgrs: [],
    check: 'not asked',
    timer: undefined,
  };
}

/** An SGR whose first parameter is 0 or absent resets every attribute before the rest. */
function resetsAll(seq: Buffer): boolean {
  const first = seq.subarray(2, -1).toString('latin1').split(/[;:]/, 1)[0]!;
  return /^0*$/.test(first);
}
