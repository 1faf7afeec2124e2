import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keepHeapHeadroom, setHeapGrowth } from './heap.js';

const MiB = 1024 * 1024;
const execArgv = process.execArgv;
afterEach(() => {
  process.execArgv = execArgv;
  vi.restoreAllMocks();
});

function spyOnFlags(): ReturnType<typeof vi.spyOn> {
  return vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
}

/** Makes V8 report this much in its old generation, and 30 MiB in its young one. */
function oldGenerationInUse(bytes: number): void {
  const space = (space_name: string, space_used_size: number): v8.HeapSpaceInfo => ({
    space_name,
    space_used_size,
    space_size: space_used_size,
    space_available_size: 0,
    physical_space_size: space_used_size,
  });
  vi.spyOn(v8, 'getHeapSpaceStatistics').mockReturnValue([
    space('new_space', 28 * MiB),
    space('new_large_object_space', 2 * MiB),
    space('old_space', bytes - 1 * MiB),
    space('code_space', 1 * MiB),
  ]);
}

describe('setHeapGrowth', () => {
  it('sets the V8 flag at start-up', () => {
    const setFlags = spyOnFlags();
    process.execArgv = ['--enable-source-maps'];
    setHeapGrowth(300);
    expect(setFlags).toHaveBeenCalledWith('--heap-growing-percent=300');
  });

  it.each(['--heap-growing-percent=50', '--heap_growing_percent=50'])(
    "leaves the operator's own %s on the command line alone",
    (operators) => {
      const setFlags = spyOnFlags();
      process.execArgv = [operators];
      setHeapGrowth(300);
      expect(setFlags).not.toHaveBeenCalled();
    },
  );
});

describe('keepHeapHeadroom', () => {
  it('lets an old generation smaller than the room grow by at least the room', () => {
    const setFlags = spyOnFlags();
    oldGenerationInUse(40 * MiB); // 70 MiB with the young generation, which V8 does not multiply
    const stop = keepHeapHeadroom(64 * MiB);
    stop();
    // 40 MiB × (1 + 175%) = 110 MiB: 70 MiB of room, the 64 asked for rounded up to a step.
    expect(setFlags).toHaveBeenCalledExactlyOnceWith('--heap-growing-percent=175');
  });

  it("leaves an old generation larger than the room to V8's own growing factor", () => {
    const setFlags = spyOnFlags();
    oldGenerationInUse(100 * MiB);
    keepHeapHeadroom(64 * MiB)();
    expect(setFlags).toHaveBeenCalledExactlyOnceWith('--heap-growing-percent=0');
  });

  it('follows the heap as it changes, after each collection', async () => {
    const setFlags = spyOnFlags();
    oldGenerationInUse(40 * MiB);
    const stop = keepHeapHeadroom(64 * MiB);
    try {
      oldGenerationInUse(16 * MiB);
      // Enough short-lived objects for V8 to collect its young generation at least once.
      let recent: object[] = [];
      for (let i = 0; i < 2_000_000; i++) {
        recent.push({ i });
        if (recent.length === 1000) recent = [];
      }
      await vi.waitFor(() =>
        expect(setFlags).toHaveBeenLastCalledWith('--heap-growing-percent=400'),
      );
    } finally {
      stop();
    }
  });

  it("leaves the operator's own --heap-growing-percent alone", () => {
    const setFlags = spyOnFlags();
    process.execArgv = ['--heap-growing-percent=50'];
    keepHeapHeadroom(64 * MiB)();
    expect(setFlags).not.toHaveBeenCalled();
  });
});
