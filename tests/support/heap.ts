// How much of the heap an operation leaves behind, for tests that a long-running service's
// memory stays flat: the heap is collected before and after, so only what is still reachable
// counts.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
// A context made after the flag is set has gc(); the test process itself was started without it.
const collectGarbage = runInNewContext('gc') as () => void;

/** Heap bytes still reachable after `run`, per one of its `count` repetitions. */
export async function retainedBytesPer(count: number, run: () => Promise<void>): Promise<number> {
  collectGarbage();
  const before = getHeapStatistics().used_heap_size;
  await run();
  collectGarbage();
  return (getHeapStatistics().used_heap_size - before) / count;
}
