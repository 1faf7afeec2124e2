// Fan-out: one session printing about 1 MB/s, watched by N joiners spread over the gateways.
// Each line starts with the shell's wall clock ($EPOCHREALTIME, microseconds); a joiner's lag
// for a line is its arrival time minus that stamp (same machine, same clock). Needs shared
// sessions (issue 3): until the gateway has the share API, the result says "not measured".
import type { Contender } from '../env/deployments.js';
import { createShare, joinQuery } from '../env/features.js';
import { openSallyport, type SallyportTerminal } from '../clients/sallyport.js';
import { waitForOutput } from '../clients/terminal.js';
import { runPool, withDeadline } from '../util.js';

export interface FanoutOptions {
  joiners: number;
  seconds: number;
  bytesPerSecond: number;
}

export type FanoutResult =
  | { measured: false; reason: string }
  | {
      measured: true;
      joiners: number;
      /** Delivery lag of every line at every joiner, milliseconds. */
      lagMs: number[];
      /** Joiners whose socket closed before the end. */
      disconnected: number;
      /** Output rate the owner actually saw, bytes/s. */
      bytesPerSecond: number;
    };

const LINE_BYTES = 10_000;

export async function measureFanout(
  contender: Contender,
  options: FanoutOptions,
): Promise<FanoutResult> {
  const sallyport = contender.sallyport;
  if (!sallyport) return { measured: false, reason: 'not a Sallyport contender' };
  const owner = (await contender.opener.open({ gateway: 0 })) as SallyportTerminal;
  const joiners: SallyportTerminal[] = [];
  try {
    const session = owner.control.find((m) => m.type === 'session');
    if (!session || session.type !== 'session') throw new Error('no session message');
    const share = await createShare(sallyport.admin, session.id, 'view');
    if (!share) return { measured: false, reason: 'shared sessions not available' };

    const gateways = sallyport.target.gatewayUrls.length;
    await runPool(options.joiners, 10, async (i) => {
      const query = await joinQuery(sallyport.admin, share.token);
      joiners.push(await openSallyport(sallyport.target, { gateway: i % gateways, query }));
    });
    let disconnected = 0;
    const lagMs: number[] = [];
    for (const joiner of joiners) {
      let carry = '';
      joiner.ws.once('close', () => (disconnected += 1));
      joiner.onOutput((chunk) => {
        const now = performance.timeOrigin + performance.now();
        // Stamps follow a line end; keep a short tail so one split across frames is still read.
        const text = carry + chunk.toString('latin1');
        for (const m of text.matchAll(/\n(\d{9,11})[.,](\d{6}) /g)) {
          lagMs.push(now - (Number(m[1]) * 1000 + Number(m[2]) / 1000));
        }
        carry = text.slice(-24);
      });
    }

    const lines = Math.round((options.bytesPerSecond / LINE_BYTES) * options.seconds);
    const pause = (LINE_BYTES / options.bytesPerSecond).toFixed(3);
    const end = `FANOUT_END_$((${lines}+1))`;
    const started = performance.now();
    const finished = waitForOutput(
      owner,
      (tail) => tail.includes(`FANOUT_END_${lines + 1}`),
      options.seconds * 1000 + 30_000,
    );
    owner.write(
      `pad=$(head -c ${LINE_BYTES - 20} /dev/zero | tr '\\0' x); ` +
        `for i in $(seq ${lines}); do printf '%s %s\\n' "$EPOCHREALTIME" "$pad"; sleep ${pause}; done; echo ${end}\n`,
    );
    await finished;
    const elapsed = (performance.now() - started) / 1000;
    return {
      measured: true,
      joiners: joiners.length,
      lagMs,
      disconnected,
      bytesPerSecond: (lines * LINE_BYTES) / elapsed,
    };
  } finally {
    await withDeadline(
      Promise.all(joiners.map((j) => (j.ws.close(), Promise.resolve()))),
      10_000,
      'closing joiners',
    ).catch(() => undefined);
    await owner.close();
  }
}
