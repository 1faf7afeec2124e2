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
