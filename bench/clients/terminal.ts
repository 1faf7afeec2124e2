// What every scenario needs from a terminal, whichever way it is reached (a direct ssh2 shell or
// a Sallyport WebSocket), so the same scenario code measures both.

/** Milliseconds on this process's monotonic clock (performance.now()). */
export interface OpenTiming {
  /** When the connection was started (WebSocket created / ssh2 connect called). */
  startedAt: number;
  /** The first terminal byte arrived (the prompt, with the test user's quiet login). */
  firstByteAt: number;
  /**
   * Milestones on the way, in order, e.g. {open, session, ready} for a WebSocket (upgrade done,
   * `session`, `ready`) or {authenticated, shell} for ssh2, to see where the time goes.
   */
  phases: Record<string, number>;
}

export interface BenchTerminal {
  readonly timing: OpenTiming;
  /** Terminal frames (WebSocket binary messages / SSH data packets) and bytes received. */
  readonly received: { frames: number; bytes: number };
  /** Keystrokes or pasted text, as the browser sends them. */
  write(data: string | Buffer): void;
  /** Where output goes from now on (one listener; scenarios swap it as they go). */
  onOutput(listener: (chunk: Buffer) => void): void;
  /** Ends the session (as the Disconnect button or `exit` would) and waits until it is gone. */
  close(): Promise<void>;
}

/** How a scenario opens terminals on one of the contenders. */
export interface TerminalOpener {
  open(options?: { cols?: number; rows?: number; gateway?: number }): Promise<BenchTerminal>;
}

/** The test user's prompt (tests/harness/test-user.ts sets PS1='$ '). */
export const PROMPT = Buffer.from('$ ');

/**
 * Resolves once `predicate` holds for the output seen since the call, or rejects after
 * `timeoutMs`. `keep` bounds how much output is kept for matching, so a long stream costs
 * neither memory nor O(n²) scanning.
 */
export function waitForOutput(
  terminal: BenchTerminal,
  predicate: (tail: Buffer) => boolean,
  timeoutMs: number,
  keep = 4096,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = Buffer.alloc(0);
    const timer = setTimeout(() => {
      terminal.onOutput(() => undefined);
      reject(
        new Error(
          `no matching output within ${timeoutMs} ms (last: ${JSON.stringify(tail.toString('latin1').slice(-120))})`,
        ),
      );
    }, timeoutMs);
    terminal.onOutput((chunk) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > keep) tail = tail.subarray(tail.length - keep);
      if (predicate(tail)) {
        clearTimeout(timer);
        terminal.onOutput(() => undefined);
        resolve();
      }
    });
  });
}

/** Resolves when no output has arrived for `quietMs`, or after `timeoutMs` at the latest. */
export function waitForQuiet(
  terminal: BenchTerminal,
  quietMs: number,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve) => {
    const deadline = setTimeout(finish, timeoutMs);
    let quiet = setTimeout(finish, quietMs);
    terminal.onOutput(() => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, quietMs);
    });
    function finish(): void {
      clearTimeout(deadline);
      clearTimeout(quiet);
      terminal.onOutput(() => undefined);
      resolve();
    }
  });
}

/**
 * Prints `lines` numbered lines in the shell and waits for the prompt after them: a session
 * with a screenful of history and a full scrollback, as a session that has been used has.
 */
export async function fillHistory(terminal: BenchTerminal, lines: number): Promise<void> {
  if (lines <= 0) return;
  // The typed line shows "$((n+1))"; only the shell's output has the sum.
  const done = Buffer.from(`FILLED_${lines + 1}\r\n$ `);
  const filled = waitForOutput(terminal, (tail) => tail.includes(done), 30_000, 256);
  terminal.write(`seq ${lines}; echo FILLED_$((${lines}+1))\n`);
  await filled;
}
