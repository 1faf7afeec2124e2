// Fan-out: one session printing about 1 MB/s, watched by N joiners spread over the gateways.
// The owner opens the session on the first gateway and creates a view-only share link; each
// joiner is a user of its own who logs in at its gateway, redeems the link and attaches, as a
// browser on the /join page does, and acknowledges what it renders. Each line starts with the
// shell's wall clock ($EPOCHREALTIME, microseconds); a joiner's lag for a line is its arrival
// time minus that stamp (same machine, same clock). The owner's own lag is kept as the
// reference: what fan-out adds is the difference.
import WebSocket from 'ws';
import type { Contender } from '../env/deployments.js';
import { createShareLink, joinerAccounts, joinQuery } from '../env/features.js';
import { openSallyport, type SallyportTerminal } from '../clients/sallyport.js';
import { startLoopLag, startOwnLoopLag, type LoopLag } from '../measure/event-loop.js';
import { startCpuMeter, type CpuReading } from '../measure/proc.js';
import { StampReader } from '../measure/stamps.js';
import { runPool, withDeadline } from '../util.js';

export interface FanoutOptions {
  joiners: number;
  seconds: number;
  bytesPerSecond: number;
}

export interface FanoutResult {
  joiners: number;
  gateways: number;
  /** Lines the owner's shell printed. */
  lines: number;
  /** Delivery lag of every line at every joiner, milliseconds. */
  lagMs: number[];
  /** Delivery lag of every line at the owner (no fan-out), milliseconds. */
  ownerLagMs: number[];
  /** Joiners whose socket closed before the end. */
  disconnected: number;
  /** Joiners the gateway cut off for lagging and showed a fresh snapshot (they missed output). */
  resynced: number;
  /** Joiners that did not receive every line. */
  incomplete: number;
  /** Output rate the shell achieved, bytes/s. */
  bytesPerSecond: number;
  /** Server processes' and the bench's own CPU while the session printed. */
  cpu: CpuReading;
  /** Event-loop delay of the server processes, and of the bench itself ("bench"). */
  loopLag: Record<string, LoopLag>;
}

const LINE_BYTES = 10_000;
/** After the owner saw the end, how long joiners may take to receive the rest. */
const CATCH_UP_MS = 10_000;

export async function measureFanout(
  contender: Contender,
  options: FanoutOptions,
): Promise<FanoutResult> {
  const sallyport = contender.sallyport;
  if (!sallyport) throw new Error('fan-out needs a Sallyport contender');
  const { target, admin } = sallyport;
  const gateways = target.gatewayUrls.length;
  const accounts = await joinerAccounts(admin, target.gatewayUrls, options.joiners);
  const owner = (await contender.opener.open({ gateway: 0 })) as SallyportTerminal;
  const joiners: Array<{ terminal: SallyportTerminal; stamps: StampReader }> = [];
  // The bench never closes a joiner before the end: one whose socket is not open was dropped.
  const connected = (j: (typeof joiners)[number]): boolean =>
    j.terminal.ws.readyState === WebSocket.OPEN;
  try {
    const session = owner.control.find((m) => m.type === 'session');
    if (!session || session.type !== 'session') throw new Error('no session message');
    const link = await createShareLink(admin, session.id, 'view');

    await runPool(accounts.length, 10, async (i) => {
      const account = accounts[i]!;
      const query = await joinQuery(account, link);
      const terminal = await openSallyport(target, {
        gateway: i % gateways,
        query,
        cookie: account.cookie,
      });
      joiners.push({ terminal, stamps: new StampReader() });
    });
    const lagMs: number[] = [];
    for (const joiner of joiners) {
      joiner.terminal.onOutput((chunk) => {
        const now = performance.timeOrigin + performance.now();
        for (const stampMs of joiner.stamps.read(chunk)) lagMs.push(now - stampMs);
      });
    }

    const lines = Math.round((options.bytesPerSecond / LINE_BYTES) * options.seconds);
    const ownerStamps = new StampReader();
    const ownerLagMs: number[] = [];
    const endMarker = Buffer.from(`FANOUT_END_${lines + 1}`);
    let seam = Buffer.alloc(0);
    const finished = new Promise<number>((resolve) => {
      owner.onOutput((chunk) => {
        const now = performance.timeOrigin + performance.now();
        for (const stampMs of ownerStamps.read(chunk)) ownerLagMs.push(now - stampMs);
        const tail = Buffer.concat([seam, chunk]);
        if (tail.includes(endMarker)) resolve(performance.now());
        seam = tail.subarray(Math.max(0, tail.length - endMarker.length));
      });
    });
    const finishLag = await startLoopLag(contender.metricsUrls);
    const finishOwnLag = startOwnLoopLag();
    const stopCpu = startCpuMeter(contender.serverProcs);
    const started = performance.now();
    owner.write(pacedLines(lines, options.bytesPerSecond));
    const endedAt = await withDeadline(
      finished,
      options.seconds * 1000 * 2 + 30_000,
      'the shell printing every line',
    );
    // Joiners may trail the owner a little; give them the time to receive every line.
    const caughtUp = performance.now() + CATCH_UP_MS;
    while (
      performance.now() < caughtUp &&
      joiners.some((j) => connected(j) && j.stamps.count < lines)
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const cpu = stopCpu();
    const ownLag = finishOwnLag();
    const loopLag = { ...(await finishLag()), bench: ownLag };
    return {
      joiners: joiners.length,
      gateways,
      lines,
      lagMs,
      ownerLagMs,
      disconnected: joiners.filter((j) => !connected(j)).length,
      resynced: joiners.filter((j) => j.terminal.snapshots > 1).length,
      incomplete: joiners.filter((j) => j.stamps.count < lines).length,
      bytesPerSecond: (lines * LINE_BYTES) / ((endedAt - started) / 1000),
      cpu,
      loopLag,
    };
  } finally {
    await Promise.all(joiners.map(({ terminal }) => terminal.detach()));
    await owner.close();
  }
}

/**
 * The shell command: `lines` lines of LINE_BYTES, each starting with $EPOCHREALTIME, paced to
 * `bytesPerSecond` against the clock (each `sleep` is a process of its own and takes time, so
 * a fixed pause would fall behind the rate), then an end marker.
 */
function pacedLines(lines: number, bytesPerSecond: number): string {
  const stepUs = Math.round((LINE_BYTES / bytesPerSecond) * 1e6);
  // The typed line shows "$((n+1))"; only the shell's output has the sum.
  return (
    `pad=$(head -c ${LINE_BYTES - 19} /dev/zero | tr '\\0' x); t=\${EPOCHREALTIME/[.,]/}; ` +
    `for i in $(seq ${lines}); do printf '%s %s\\n' "$EPOCHREALTIME" "$pad"; ` +
    `t=$((t+${stepUs})); d=$((t-\${EPOCHREALTIME/[.,]/})); ` +
    `if ((d>0)); then printf -v s '%d.%06d' $((d/1000000)) $((d%1000000)); sleep $s; fi; done; ` +
    `echo FANOUT_END_$((${lines}+1))\n`
  );
}
