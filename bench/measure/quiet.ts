// Benchmarks on a shared machine: before each measurement, wait (bounded) until other processes
// leave the CPUs mostly idle, and record how busy the machine was, so a noisy figure can be told
// from a slow one. Nothing of ours runs while this samples: the deployments are idle between steps.
import { machineBusyOver } from './proc.js';

/** Above this share of all cores busy, the machine is not quiet. */
const BUSY_LIMIT = 0.15;
const SAMPLE_MS = 500;

export interface QuietCheck {
  /** Busy share of the last sample (0–1). */
  busy: number;
  waitedMs: number;
  quiet: boolean;
}

export async function waitForQuietMachine(maxWaitMs: number): Promise<QuietCheck> {
  const t0 = performance.now();
  for (;;) {
    const busy = await machineBusyOver(SAMPLE_MS);
    const waitedMs = performance.now() - t0;
    if (busy <= BUSY_LIMIT) return { busy, waitedMs, quiet: true };
    if (waitedMs >= maxWaitMs) return { busy, waitedMs, quiet: false };
  }
}
