import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/** Whether the operator started the process with their own `--heap-growing-percent`. */
function growthGivenOnCommandLine(): boolean {
  // Only the command line can carry it: Node refuses this flag in NODE_OPTIONS.
  return process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
}

/**
 * Lets V8's old generation grow by `percent` of what a full collection leaves before it starts
 * the next one, unless the process was started with its own `--heap-growing-percent`.
 *
 * For the processes that stream files. Their I/O buffers live outside the JS heap, and V8
 * counts external memory allocated since the last full collection against the old
 * generation's budget. With V8's own growing factor (about 1.7 over a heap of ~35 MB) that
 * budget is smaller than what a transfer allocates between two young-generation collections,
 * so V8 marked and compacted the whole heap every few megabytes, freeing almost nothing: a
 * 256 MB download cost the gateway ~3.5 ms of CPU per MB instead of ~1.2, and the sftp-worker
 * ~4.5 instead of ~2.5 (docs/performance.md). The price is a larger heap between collections.
 */
export function setHeapGrowth(percent: number): void {
  // Read by V8 each time it sets the next limit, so setting it at start-up is as good as the
  // command line.
  if (!growthGivenOnCommandLine()) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * Keeps up to about `bytes` of room between what a full collection leaves and the start of the
 * next (less after a collection that frees much: the room is sized from the old generation as it
 * was before) while the old generation is smaller than that; a larger one grows by V8's own
 * factor. Unless the process was started with its own `--heap-growing-percent`. Returns a
 * function that stops following the heap (the flag keeps its last value).
 *
 * For the session worker. Its output passes through buffers outside the heap, which V8 counts
 * against the same budget (see setHeapGrowth). With V8's own factor over its ~40 MB heap, bulk
 * output started a full collection every few megabytes in some rounds, which raised the
 * worker's CPU per MB by half or more (docs/performance.md). A fixed percentage would not do:
 * its heap grows with its sessions, and 200% over a thousand sessions' heap is hundreds of MB.
 */
export function keepHeapHeadroom(bytes: number): () => void {
  if (growthGivenOnCommandLine()) return () => undefined;
  let percent = -1;
  const adjust = (): void => {
    // V8 places the next full collection from the flag as it is when the last one ends, by
    // multiplying what that one leaves. Until then the old generation only grows (survivors
    // and garbage not yet collected), so sizing the room from it now never gives much more
    // than `bytes`, and less when the next collection frees much.
    const old = oldGenerationSize();
    // In steps of 25% so that it is not set again after every collection; 0 is V8's own.
    const wanted = old > 0 && old < bytes ? Math.ceil((4 * bytes) / old) * 25 : 0;
    if (wanted === percent) return;
    percent = wanted;
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  adjust();
  // After young-generation collections too: they are what moves objects into the old one.
  const observer = new PerformanceObserver(adjust);
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/** What V8 multiplies to set the next limit: the heap without its young generation. */
function oldGenerationSize(): number {
  return v8
    .getHeapSpaceStatistics()
    .filter((space) => !space.space_name.startsWith('new_'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
}
