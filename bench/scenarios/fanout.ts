// Fan-out: one session printing about 1 MB/s, watched by N joiners spread over the gateways.
// The owner opens the session on the first gateway and creates a view-only share link; each
// joiner is a user of its own who logs in at its gateway, redeems the link and attaches, as a
// browser on the /join page does, and acknowledges what it renders. Each line starts with the
// shell's wall clock ($EPOCHREALTIME, microseconds); a joiner's lag for a line is its arrival
// time minus that stamp (same machine, same clock), kept for the lines after a two-second
// lead-in. The owner's own lag is kept as the reference: what fan-out adds is the difference.
// The owner's and the joiners' browsers run in a process of their own
// (clients/fanout-browsers.ts); this side sets up the accounts and the link and reads the
// servers' CPU and event-loop delay.
import type { Contender } from '../env/deployments.js';
import { createShareLink, joinerAccounts, joinQuery } from '../env/features.js';
import { startChild } from '../clients/child.js';
import type {
  FanoutDelivery,
  FanoutReply,
  FanoutRequest,
  Printed,
} from '../clients/fanout-browsers.js';
import type { LoopLag } from '../measure/event-loop.js';
import { startServiceMetrics } from '../measure/service-metrics.js';
import { startCpuMeter, type CpuReading } from '../measure/proc.js';
import { runPool } from '../util.js';

export interface FanoutOptions {
  joiners: number;
  seconds: number;
  bytesPerSecond: number;
}

export interface FanoutResult extends FanoutDelivery {
  joiners: number;
  gateways: number;
  /** Server processes' CPU while the session printed; clientMs is the browsers' process's. */
  cpu: CpuReading;
  /** Event-loop delay of the server processes, and of the browsers' process ("browsers"). */
  loopLag: Record<string, LoopLag>;
}

export async function measureFanout(
  contender: Contender,
  options: FanoutOptions,
): Promise<FanoutResult> {
  const sallyport = contender.sallyport;
  if (!sallyport) throw new Error('fan-out needs a Sallyport contender');
  const { target, admin } = sallyport;
  const gateways = target.gatewayUrls.length;
  const accounts = await joinerAccounts(admin, target.gatewayUrls, options.joiners);
  const browsers = await startChild<FanoutRequest, FanoutReply>('fanout-browsers.ts');
  const ask = <R extends FanoutReply>(request: FanoutRequest, ms: number, what: string) =>
    browsers.ask(request, ms, what) as Promise<R>;
  try {
    const { sessionId } = await ask<{ sessionId: string }>(
      { op: 'open-owner', target },
      60_000,
      "opening the owner's terminal",
    );
    const link = await createShareLink(admin, sessionId, 'view');
    const queries = await runPool(accounts.length, 10, (i) => joinQuery(accounts[i]!, link));
    const joiners = accounts.map((account, i) => ({
      gateway: i % gateways,
      query: queries[i]!,
      cookie: account.cookie,
    }));
    await ask({ op: 'join', joiners }, 120_000, 'attaching the joiners');

    const finishMetrics = await startServiceMetrics(contender.metricsUrls);
    const stopCpu = startCpuMeter(contender.serverProcs);
    const {
      cpuMs,
      loopLag: browsersLag,
      ...delivery
    } = await ask<Printed>(
      { op: 'print', bytesPerSecond: options.bytesPerSecond, seconds: options.seconds },
      options.seconds * 1000 * 2 + 60_000,
      'the fan-out',
    );
    return {
      joiners: joiners.length,
      gateways,
      ...delivery,
      cpu: { ...stopCpu(), clientMs: cpuMs },
      loopLag: { ...(await finishMetrics()).loopLag, browsers: browsersLag },
    };
  } finally {
    // Detached and closed as a browser leaves, so the session ends now rather than lingering
    // for its owner to come back.
    await ask({ op: 'close' }, 30_000, 'closing the terminals').catch(() => {});
    await browsers.stop();
  }
}
