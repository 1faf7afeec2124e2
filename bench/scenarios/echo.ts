// Keystroke echo: one character at a time into bash's line editor, timing from the send to the
// arrival of its echo, as a person typing sees it. The line is cleared every so often so it never
// wraps (a wrap makes readline redraw, which is not an echo).
import { waitForOutput, waitForQuiet, type BenchTerminal } from '../clients/terminal.js';

export interface EchoOptions {
  keystrokes: number;
  /** Keystrokes sent and not recorded first (JIT, caches, TCP windows). */
  warmup: number;
  /** Pause between an echo and the next keystroke, so keystrokes never queue. */
  gapMs: number;
}

export interface EchoResult {
  /** One echo latency per keystroke, milliseconds. */
  latenciesMs: number[];
}

const CHARS = 'abcdefghijklmnopqrstuvwxyz';
const CLEAR_EVERY = 40; // "$ " plus 40 characters stays well inside 80 columns
const ECHO_TIMEOUT_MS = 5_000;

export async function measureEcho(
  terminal: BenchTerminal,
  options: EchoOptions,
): Promise<EchoResult> {
  const latenciesMs: number[] = [];
  const total = options.warmup + options.keystrokes;
  for (let i = 0; i < total; i++) {
    if (i > 0 && i % CLEAR_EVERY === 0) {
      terminal.write('\x15'); // Ctrl-U: readline erases the line
      await waitForQuiet(terminal, 30, 1_000);
    }
    const ch = CHARS[i % CHARS.length]!;
    const code = ch.charCodeAt(0);
    // The arrival is timed in the output callback itself, not after the promise settles.
    let echoedAt = 0;
    const echoed = waitForOutput(
      terminal,
      (tail) => tail.includes(code) && (echoedAt = performance.now()) > 0,
      ECHO_TIMEOUT_MS,
      64,
    );
    const sentAt = performance.now();
    terminal.write(ch);
    await echoed;
    if (i >= options.warmup) latenciesMs.push(echoedAt - sentAt);
    await new Promise((r) => setTimeout(r, options.gapMs));
  }
  terminal.write('\x15');
  await waitForQuiet(terminal, 30, 1_000);
  return { latenciesMs };
}
