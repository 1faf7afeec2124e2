// Keystroke echo in one session while another session prints flat out: what a user feels when a
// colleague's build log streams through the same worker. The flooding session is another
// browser, in a process of its own (clients/flood-terminal.ts), and goes through the other
// gateway, so what the two share is the worker, Redis and the machine.
import { startChild } from '../clients/child.js';
import type { FloodReply, FloodRequest } from '../clients/flood-terminal.js';
import type { Contender } from '../env/deployments.js';
import { startOwnLoopLag } from '../measure/event-loop.js';
import { measureEcho, type EchoOptions } from './echo.js';

export interface FloodEchoResult {
  /** One echo latency per keystroke, milliseconds. */
  latenciesMs: number[];
  /** How fast the flood reached its browser meanwhile: a slower flood leaves less to do. */
  floodMBps: number;
  /** The bench's own event-loop delay meanwhile (p99, ms), which adds to the echo measured. */
  clientLoopP99Ms: number;
}

export async function measureEchoBesideFlood(
  contender: Contender,
  options: EchoOptions,
): Promise<FloodEchoResult> {
  const flood = await startChild<FloodRequest, FloodReply>('flood-terminal.ts');
  const quiet = await contender.opener.open({ gateway: 0 });
  try {
    await flood.ask(
      { op: 'start', ssh: contender.ssh, sallyport: contender.sallyport?.target },
      60_000,
      'starting the flood',
    );
    const finishLoopLag = startOwnLoopLag();
    const { latenciesMs } = await measureEcho(quiet, options);
    const clientLoopP99Ms = finishLoopLag().p99;
    const { bytes, seconds } = (await flood.ask({ op: 'stop' }, 60_000, 'ending the flood')) as {
      bytes: number;
      seconds: number;
    };
    return { latenciesMs, floodMBps: bytes / 1e6 / seconds, clientLoopP99Ms };
  } finally {
    await Promise.all([quiet.close(), flood.stop()]);
  }
}
