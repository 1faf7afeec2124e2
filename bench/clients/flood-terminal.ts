// A child process holding the terminal that floods in the `flood` scenario: another user's
// browser, in a process of its own. In the bench's process, decoding 20 MB/s of someone else's
// output delayed the bench's own event loop by 20 ms and more (p99), which it then measured as
// the quiet session's echo. Driven by scenarios/flood-echo.ts.
import { serveRequests } from './child.js';
import { openTarget, type TerminalTarget } from './open-target.js';
import type { BenchTerminal } from './terminal.js';

export type FloodRequest = ({ op: 'start' } & TerminalTarget) | { op: 'stop' };

export type FloodReply = { flowing: true } | { bytes: number; seconds: number } | { error: string };

// Once this much has arrived, the shell is printing as fast as it can.
const FLOWING_BYTES = 1_000_000;
const FLOW_TIMEOUT_MS = 30_000;

let terminal: BenchTerminal | undefined;
let flowingAt = 0;
let bytesAtFlowing = 0;

serveRequests<FloodRequest>(async (request) => {
  if (request.op === 'start') {
    // Through the other gateway: what the two sessions share is the worker.
    terminal = await openTarget(request, { gateway: 1 });
    const flowing = outputReaches(terminal, FLOWING_BYTES, FLOW_TIMEOUT_MS);
    // Endless, so that it outlasts the keystrokes; interrupted at 'stop'.
    terminal.write('base64 /dev/urandom\n');
    await flowing;
    flowingAt = performance.now();
    bytesAtFlowing = terminal.received.bytes;
    return { flowing: true };
  }
  if (!terminal) throw new Error('no flood was started');
  const seconds = (performance.now() - flowingAt) / 1000;
  const bytes = terminal.received.bytes - bytesAtFlowing;
  terminal.write('\x03');
  await terminal.close();
  terminal = undefined;
  return { bytes, seconds };
});

/** Resolves once `bytes` of output have arrived (and goes on taking output, discarding it). */
function outputReaches(terminal: BenchTerminal, bytes: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const timer = setTimeout(
      () => reject(new Error(`the flood printed ${received} bytes in ${timeoutMs} ms`)),
      timeoutMs,
    );
    terminal.onOutput((chunk) => {
      received += chunk.length;
      if (received < bytes) return;
      clearTimeout(timer);
      resolve();
    });
  });
}
