import v8 from 'node:v8';

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
  // Only the command line can carry it: Node refuses this flag in NODE_OPTIONS.
  const given = process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
  // Read by V8 each time it sets the next limit, so setting it at start-up is as good as the
  // command line.
  if (!given) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * Lets V8's old generation reach `megabytes` before a full collection is due, unless the process
 * was started with its own `--initial-old-space-size`.
 *
 * For the session worker, which has the same trouble as the streaming processes (see
 * setHeapGrowth) during bulk output while it holds few sessions: a quarter of its CPU went to
 * full collections that freed nothing. A floor rather than a growing factor, because its heap
 * grows with its sessions: one already larger than the floor is collected as before, and the
 * memory a thousand idle sessions take does not grow.
 */
export function setHeapFloor(megabytes: number): void {
  // Only the command line can carry it: Node refuses this flag in NODE_OPTIONS.
  const given = process.execArgv.some((arg) => /^--initial[-_]old[-_]space[-_]size\b/.test(arg));
  // Set at start-up rather than on the command line, it still takes effect (measured: the
  // worker's full collections during bulk output fell from 32 to 1-3).
  if (!given) v8.setFlagsFromString(`--initial-old-space-size=${megabytes}`);
}
