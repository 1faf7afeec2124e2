// Keystroke echo in one session while another session prints flat out: what a user feels when a
// colleague's build log streams through the same worker. In distributed mode the two sessions go
// through different gateways, so what they share is the worker, Redis and the machine.
import type { BenchTerminal, TerminalOpener } from '../clients/terminal.js';
import { measureEcho, type EchoOptions, type EchoResult } from './echo.js';

// Once this much has arrived, the shell is printing as fast as it can.
const FLOWING_BYTES = 1_000_000;
const FLOW_TIMEOUT_MS = 30_000;

export async function measureEchoBesideFlood(
  opener: TerminalOpener,
  options: EchoOptions,
): Promise<EchoResult> {
  const quiet = await opener.open({ gateway: 0 });
  const flood = await opener.open({ gateway: 1 });
  try {
    const flowing = outputReaches(flood, FLOWING_BYTES, FLOW_TIMEOUT_MS);
    // Endless, so that it outlasts the keystrokes; interrupted below.
    flood.write('base64 /dev/urandom\n');
    await flowing;
    return await measureEcho(quiet, options);
  } finally {
    flood.write('\x03');
    await Promise.all([quiet.close(), flood.close()]);
  }
}

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
