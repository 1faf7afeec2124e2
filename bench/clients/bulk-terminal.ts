// The terminals of the bulk scenario, in a process of its own, as a browser is. In the bench's
// process, decoding the output cost it 1.1 to 3.6 ms of CPU per MB depending on what the bench
// had done before (after the flood scenario, three times what it cost in a run of bulk output
// alone), and on two cores that CPU is taken from the pipeline being measured. Each run opens a
// session of its own. Driven by scenarios/bulk.ts.
import { serveRequests } from './child.js';
import { openTarget, type TerminalTarget } from './open-target.js';
import { waitForQuiet, type BenchTerminal } from './terminal.js';

export type BulkRequest =
  | ({ op: 'open' } & TerminalTarget)
  /** Waits until the shell has been quiet for a moment (the prompt after the last print). */
  | { op: 'settle' }
  /** Types `command` and waits for `marker` in the output. */
  | { op: 'print'; command: string; marker: string; timeoutMs: number }
  | { op: 'close' };

export interface Printed {
  /** Terminal bytes received from Enter to the marker. */
  bytes: number;
  wallMs: number;
  /** Terminal frames received meanwhile (WebSocket binary messages, or SSH data packets). */
  frames: number;
  /** This process's CPU meanwhile. */
  clientCpuMs: number;
}

export type BulkReply = { done: true } | Printed | { error: string };

let terminal: BenchTerminal | undefined;

serveRequests<BulkRequest>(async (request): Promise<BulkReply> => {
  if (request.op === 'open') {
    await terminal?.close();
    terminal = await openTarget(request);
    return { done: true };
  }
  if (!terminal) throw new Error('no terminal was opened');
  if (request.op === 'settle') {
    await waitForQuiet(terminal, 100, 5_000);
    return { done: true };
  }
  if (request.op === 'close') {
    await terminal.close();
    terminal = undefined;
    return { done: true };
  }
  return await print(terminal, request);
});

function print(
  terminal: BenchTerminal,
  {
    command,
    marker: markerText,
    timeoutMs,
  }: { command: string; marker: string; timeoutMs: number },
): Promise<Printed> {
  const marker = Buffer.from(markerText);
  const framesBefore = terminal.received.frames;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let carry: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      terminal.onOutput(() => undefined);
      reject(new Error(`bulk output did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    terminal.onOutput((chunk) => {
      bytes += chunk.length;
      // The marker may straddle two chunks: look in the seam, then in the chunk.
      const seam = Buffer.concat([carry, chunk.subarray(0, marker.length - 1)]);
      if (seam.includes(marker) || chunk.includes(marker)) {
        const wallMs = performance.now() - startedAt;
        const cpu = process.cpuUsage(cpuBefore);
        clearTimeout(timer);
        terminal.onOutput(() => undefined);
        resolve({
          bytes,
          wallMs,
          frames: terminal.received.frames - framesBefore,
          clientCpuMs: (cpu.user + cpu.system) / 1000,
        });
        return;
      }
      // The last marker.length − 1 bytes seen, however small the chunks.
      const tail = chunk.length >= marker.length - 1 ? chunk : Buffer.concat([carry, chunk]);
      carry = tail.subarray(Math.max(0, tail.length - (marker.length - 1)));
    });
    terminal.write(command);
  });
}
