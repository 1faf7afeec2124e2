import type headlessPkg from '@xterm/headless';

type Terminal = InstanceType<typeof headlessPkg.Terminal>;

// What a headless xterm holds beyond the cells, cursor and modes that the SerializeAddon writes
// out, read from (and, for saved cursors, written back to) xterm's internals. If a new version
// of xterm moves them, the readers say "unknown" and the callers fall back to the safe path:
// every byte parsed, no screen compacted.

/** The parts of xterm's internals read here. */
interface TerminalInternals {
  _core?: {
    buffer?: BufferInternals;
    buffers?: { normal?: BufferInternals; alt?: BufferInternals };
    _inputHandler?: {
      _parser?: { currentState?: number; precedingJoinState?: number };
      _utf8Decoder?: { interim?: Uint8Array };
      _curAttrData?: Attributes;
    };
    _charsetService?: { glevel?: number; charset?: unknown; _charsets?: unknown[] };
  };
}

interface BufferInternals {
  x?: number;
  y?: number;
  ybase?: number;
  scrollTop?: number;
  scrollBottom?: number;
  savedX?: number;
  savedY?: number;
  savedCurAttrData?: Attributes;
  savedCharset?: unknown;
  tabs?: Record<number, boolean>;
  lines?: {
    length: number;
    maxLength?: number;
    get(index: number): LineInternals | undefined;
  };
}

/** A line of cells (xterm's BufferLine): three numbers a cell, and what does not fit in them. */
interface LineInternals {
  isWrapped?: boolean;
  _data?: Uint32Array;
  _combined?: Record<number, string>;
  _extendedAttrs?: Record<number, { ext?: number; urlId?: number } | undefined>;
}

/** Colours and styles (xterm's AttributeData). */
interface Attributes {
  fg?: number;
  bg?: number;
  extended?: { ext?: number; urlId?: number };
  clone(): Attributes;
}

const coreOf = (terminal: Terminal) => (terminal as unknown as TerminalInternals)._core;

/**
 * True when plain text can be skipped (see ScrollOffFilter): no escape sequence or UTF-8
 * character half-parsed, and no scroll region (lines outside one never scroll out).
 */
export function isAtRest(terminal: Terminal): boolean {
  const core = coreOf(terminal);
  const buffer = core?.buffer;
  return (
    core?._inputHandler?._parser?.currentState === 0 &&
    core._inputHandler._utf8Decoder?.interim?.[0] === 0 &&
    buffer?.scrollTop === 0 &&
    buffer.scrollBottom === terminal.rows - 1
  );
}

/** A buffer's saved cursor (ESC 7, or entering the alternate screen). */
interface SavedCursor {
  x: number;
  y: number;
  attributes: Attributes;
  charset: unknown;
}

/** What a terminal rebuilt from serialized sequences is given back directly. */
export interface RestorableState {
  /** The normal and the alternate buffer's saved cursors. */
  saved: [SavedCursor, SavedCursor];
  /** The normal and the alternate buffer's tab stops (columns). */
  tabs: [Record<number, boolean>, Record<number, boolean>];
  /**
   * Whether each buffer's oldest line continues a wrapped line whose start was dropped from the
   * history: redrawn, it would be a line of its own, and a resize would rewrap it differently.
   */
  continuesDropped: [boolean, boolean];
  /**
   * How many lines xterm's alternate buffer, unused, will hold when a program enters it: the
   * rows it had when last cleared, as resizing an empty buffer leaves that unchanged. A terminal
   * built this tall and then resized holds the same.
   */
  altLength: number;
  /**
   * The last character printed, if nothing but text came after it: what `CSI n b` (REP) repeats.
   * A redraw ends with a cursor move, which forgets it.
   */
  precedingJoinState: number;
}

export function readRestorable(terminal: Terminal): RestorableState | undefined {
  const buffers = coreOf(terminal)?.buffers;
  const normal = savedCursorOf(buffers?.normal);
  const alt = savedCursorOf(buffers?.alt);
  const altLength = buffers?.alt?.lines?.maxLength;
  const normalTabs = buffers?.normal?.tabs;
  const altTabs = buffers?.alt?.tabs;
  const precedingJoinState = coreOf(terminal)?._inputHandler?._parser?.precedingJoinState;
  if (!normal || !alt || !normalTabs || !altTabs || altLength === undefined) return undefined;
  if (precedingJoinState === undefined) return undefined;
  return {
    saved: [normal, alt],
    tabs: [{ ...normalTabs }, { ...altTabs }],
    continuesDropped: [continuesDropped(buffers?.normal), continuesDropped(buffers?.alt)],
    altLength,
    precedingJoinState,
  };
}

function continuesDropped(buffer: BufferInternals | undefined): boolean {
  return buffer?.lines?.get(0)?.isWrapped ?? false;
}

function savedCursorOf(buffer: BufferInternals | undefined): SavedCursor | undefined {
  const attributes = buffer?.savedCurAttrData;
  if (buffer?.savedX === undefined || buffer.savedY === undefined || !attributes) return undefined;
  return {
    x: buffer.savedX,
    y: buffer.savedY,
    attributes: attributes.clone(),
    charset: buffer.savedCharset,
  };
}

/**
 * Gives a terminal what was read from another with readRestorable, once its screen has been
 * redrawn (the redraw moves the cursor, and may save it).
 */
export function restore(terminal: Terminal, state: RestorableState): void {
  const core = coreOf(terminal);
  const parser = core?._inputHandler?._parser;
  if (parser) parser.precedingJoinState = state.precedingJoinState;
  const buffers = core?.buffers;
  for (const [i, buffer] of [buffers?.normal, buffers?.alt].entries()) {
    if (!buffer) continue;
    const saved = state.saved[i]!;
    buffer.tabs = { ...state.tabs[i] };
    const oldest = buffer.lines?.get(0);
    if (oldest) oldest.isWrapped = state.continuesDropped[i]!;
    buffer.savedX = saved.x;
    buffer.savedY = saved.y;
    buffer.savedCurAttrData = saved.attributes.clone();
    buffer.savedCharset = saved.charset;
  }
}

/**
 * Everything known about a terminal, beyond its serialized screen, that later output or a later
 * snapshot depends on, as one comparable string: the parser's state, the colours and character
 * sets selected, each buffer's scroll region, cursor, saved cursor, tab stops and length, and
 * which of its lines continue the line before (a resize rewraps them with it; a serialized screen
 * does not always say). Undefined if xterm's internals are not where this expects them.
 */
export function hiddenStateOf(terminal: Terminal): string | undefined {
  const core = coreOf(terminal);
  const input = core?._inputHandler;
  const charsets = core?._charsetService;
  const buffers = [core?.buffers?.normal, core?.buffers?.alt];
  if (!input?._parser || !input._curAttrData || !charsets?._charsets) return undefined;
  if (!buffers.every((buffer) => buffer?.lines && buffer.tabs && buffer.savedCurAttrData))
    return undefined;
  return JSON.stringify({
    active: terminal.buffer.active.type,
    parser: [input._parser.currentState, input._parser.precedingJoinState],
    utf8: input._utf8Decoder?.interim?.[0],
    pen: attributesOf(input._curAttrData),
    // G0–G3; US ASCII is `undefined` whether designated or never touched.
    charsets: [charsets.glevel, charsets.charset, [0, 1, 2, 3].map((g) => charsets._charsets![g])],
    buffers: buffers.map((buffer) => ({
      region: [buffer!.scrollTop, buffer!.scrollBottom],
      cursor: [buffer!.x, buffer!.y, buffer!.ybase],
      saved: [buffer!.savedX, buffer!.savedY, buffer!.savedCharset],
      savedAttributes: attributesOf(buffer!.savedCurAttrData!),
      tabs: Object.keys(buffer!.tabs!),
      lines: [buffer!.lines!.length, buffer!.lines!.maxLength],
      wrapped: wrappedLines(buffer!.lines!),
    })),
  });
}

/**
 * Whether two terminals hold the same cells in both buffers: characters, widths and attributes,
 * blank cells' too (a serialized screen leaves out the attributes of blank cells, which a resize
 * can bring into view). False if xterm's internals are not where this expects them.
 */
export function sameCells(a: Terminal, b: Terminal): boolean {
  const [aBuffers, bBuffers] = [coreOf(a)?.buffers, coreOf(b)?.buffers];
  for (const which of ['normal', 'alt'] as const) {
    const [aLines, bLines] = [aBuffers?.[which]?.lines, bBuffers?.[which]?.lines];
    if (!aLines || !bLines || aLines.length !== bLines.length) return false;
    for (let i = 0; i < aLines.length; i++) {
      if (!sameLine(aLines.get(i), bLines.get(i))) return false;
    }
  }
  return true;
}

function sameLine(a: LineInternals | undefined, b: LineInternals | undefined): boolean {
  if (!a?._data || !b?._data || a._data.length !== b._data.length) return false;
  for (let i = 0; i < a._data.length; i++) if (a._data[i] !== b._data[i]) return false;
  const extended = (line: LineInternals) =>
    JSON.stringify(
      Object.entries(line._extendedAttrs ?? {}).map(([cell, ext]) => [cell, ext?.ext, ext?.urlId]),
    );
  return (
    JSON.stringify(a._combined ?? {}) === JSON.stringify(b._combined ?? {}) &&
    extended(a) === extended(b)
  );
}

/** "0" for a line of its own, "1" for one that continues the line before, oldest first. */
function wrappedLines(lines: NonNullable<BufferInternals['lines']>): string {
  let wrapped = '';
  for (let i = 0; i < lines.length; i++) wrapped += lines.get(i)?.isWrapped ? '1' : '0';
  return wrapped;
}

function attributesOf(attributes: Attributes): unknown[] {
  return [attributes.fg, attributes.bg, attributes.extended?.ext, attributes.extended?.urlId];
}
