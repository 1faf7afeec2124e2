// A child process holding the fan-out scenario's browsers: the owner's terminal and every
// joiner's, each acknowledging what it renders as the web UI does. They measure in their own
// process (see child.ts): 50 joiners receive 50 MB/s between them, and in the bench's own process
// the lag they measured swung with the bench's garbage collections. Driven by
// scenarios/fanout.ts; the lag of a line is its arrival here minus the shell's stamp on it.
import WebSocket from 'ws';
import { startOwnLoopLag, type LoopLag } from '../measure/event-loop.js';
import { StampReader } from '../measure/stamps.js';
import { runPool, withDeadline } from '../util.js';
import { serveRequests } from './child.js';
import { openSallyport, type SallyportTarget, type SallyportTerminal } from './sallyport.js';

export type FanoutRequest =
  | { op: 'open-owner'; target: SallyportTarget }
  | {
      op: 'join';
      joiners: { gateway: number; query: Record<string, string>; cookie: string }[];
    }
  | { op: 'print'; bytesPerSecond: number; seconds: number }
  | { op: 'close' };

/** What the browsers saw of the session's output. */
export interface FanoutDelivery {
  /** Lines the owner's shell printed, the lead-in's included. */
  lines: number;
  /** Delivery lag of every line after the lead-in at every joiner, milliseconds. */
  lagMs: number[];
  /** Delivery lag of every line after the lead-in at the owner (no fan-out), milliseconds. */
  ownerLagMs: number[];
  /** Joiners whose socket closed before the end. */
  disconnected: number;
  /** Joiners the gateway cut off for lagging and showed a fresh snapshot (they missed output). */
  resynced: number;
  /** Joiners that did not receive every line. */
  incomplete: number;
  /** Output rate the shell achieved, bytes/s (command sent to the owner seeing its end). */
  bytesPerSecond: number;
}

export interface Printed extends FanoutDelivery {
  /** This process's CPU and event-loop delay while the shell printed. */
  cpuMs: number;
  loopLag: LoopLag;
}

export type FanoutReply = { sessionId: string } | Printed | { ok: true } | { error: string };

const LINE_BYTES = 10_000;
/** After the owner saw the end, how long joiners may take to receive the rest. */
const CATCH_UP_MS = 10_000;
/**
 * The shell prints this long before the lines whose lag is kept. In the first half-second of a
 * round, this process (new for the round) and the servers (just after 50 joins) are still
 * settling: lines arrived up to 133 ms late at the owner and the joiners alike, while this
 * process's event loop stalled for up to 113 ms.
 */
const LEAD_IN_SECONDS = 2;

let target: SallyportTarget | undefined;
let owner: SallyportTerminal | undefined;
const joiners: Array<{ terminal: SallyportTerminal; stamps: StampReader }> = [];

serveRequests(async (request: FanoutRequest): Promise<FanoutReply> => {
  switch (request.op) {
    case 'open-owner': {
      target = request.target;
      owner = await openSallyport(target, { gateway: 0 });
      const session = owner.control.find((m) => m.type === 'session');
      if (!session || session.type !== 'session') throw new Error('no session message');
      return { sessionId: session.id };
    }
    case 'join':
      await runPool(request.joiners.length, 10, async (i) => {
        const { gateway, query, cookie } = request.joiners[i]!;
        const terminal = await openSallyport(target!, { gateway, query, cookie });
        joiners.push({ terminal, stamps: new StampReader() });
      });
      return { ok: true };
    case 'print':
      return print(owner!, request);
    case 'close':
      await Promise.all(joiners.map(({ terminal }) => terminal.detach()));
      await owner?.close();
      return { ok: true };
  }
});

// The bench never closes a joiner before the end: one whose socket is not open was dropped.
const connected = (j: (typeof joiners)[number]): boolean =>
  j.terminal.ws.readyState === WebSocket.OPEN;

async function print(
  owner: SallyportTerminal,
  options: { bytesPerSecond: number; seconds: number },
): Promise<Printed> {
  const linesPerSecond = options.bytesPerSecond / LINE_BYTES;
  const leadIn = Math.round(linesPerSecond * LEAD_IN_SECONDS);
  const lines = leadIn + Math.round(linesPerSecond * options.seconds);
  /** Reads a chunk's stamps, and keeps the lag of those after the lead-in. */
  const keepLags = (stamps: StampReader, chunk: Buffer, into: number[]): void => {
    const now = performance.timeOrigin + performance.now();
    const read = stamps.read(chunk);
    const first = stamps.count - read.length; // index of read[0] among every line
    read.forEach((stampMs, i) => {
      if (first + i >= leadIn) into.push(now - stampMs);
    });
  };
  const lagMs: number[] = [];
  for (const joiner of joiners) {
    joiner.terminal.onOutput((chunk) => keepLags(joiner.stamps, chunk, lagMs));
  }
  const ownerStamps = new StampReader();
  const ownerLagMs: number[] = [];
  const endMarker = Buffer.from(`FANOUT_END_${lines + 1}`);
  let seam = Buffer.alloc(0);
  const finished = new Promise<number>((resolve) => {
    owner.onOutput((chunk) => {
      keepLags(ownerStamps, chunk, ownerLagMs);
      const tail = Buffer.concat([seam, chunk]);
      if (tail.includes(endMarker)) resolve(performance.now());
      seam = tail.subarray(Math.max(0, tail.length - endMarker.length));
    });
  });
  const finishLoopLag = startOwnLoopLag();
  const cpu = process.cpuUsage();
  const started = performance.now();
  owner.write(pacedLines(lines, options.bytesPerSecond));
  const endedAt = await withDeadline(
    finished,
    (LEAD_IN_SECONDS + options.seconds) * 1000 * 2 + 30_000,
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
  const used = process.cpuUsage(cpu);
  return {
    lines,
    lagMs,
    ownerLagMs,
    disconnected: joiners.filter((j) => !connected(j)).length,
    resynced: joiners.filter((j) => j.terminal.snapshots > 1).length,
    incomplete: joiners.filter((j) => j.stamps.count < lines).length,
    bytesPerSecond: (lines * LINE_BYTES) / ((endedAt - started) / 1000),
    cpuMs: (used.user + used.system) / 1000,
    loopLag: finishLoopLag(),
  };
}

/**
 * The shell command: `lines` lines of LINE_BYTES, each starting with $EPOCHREALTIME, paced to
 * `bytesPerSecond` against the clock (a fixed pause would fall behind the rate), then an end
 * marker. It pauses with bash's own `read -t` on a pipe that never delivers: `sleep`, a process
 * of its own for every line, cost the printer 60% of a core at 1 MB/s on two cores whose
 * remaining time the servers and browsers being measured share.
 */
function pacedLines(lines: number, bytesPerSecond: number): string {
  const stepUs = Math.round((LINE_BYTES / bytesPerSecond) * 1e6);
  // The typed line shows "$((n+1))"; only the shell's output has the sum.
  return (
    `exec {never}<> <(:); ` +
    `pad=$(head -c ${LINE_BYTES - 19} /dev/zero | tr '\\0' x); t=\${EPOCHREALTIME/[.,]/}; ` +
    `for i in $(seq ${lines}); do printf '%s %s\\n' "$EPOCHREALTIME" "$pad"; ` +
    `t=$((t+${stepUs})); d=$((t-\${EPOCHREALTIME/[.,]/})); ` +
    `if ((d>0)); then printf -v s '%d.%06d' $((d/1000000)) $((d%1000000)); ` +
    `read -t $s -u $never; fi; done; ` +
    `echo FANOUT_END_$((${lines}+1))\n`
  );
}
