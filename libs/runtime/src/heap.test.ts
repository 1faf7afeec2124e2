import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setHeapGrowth } from './heap.js';

const execArgv = process.execArgv;
afterEach(() => {
  process.execArgv = execArgv;
  vi.restoreAllMocks();
});

describe('setHeapGrowth', () => {
  it('sets the V8 flag at start-up', () => {
    const setFlags = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    process.execArgv = ['--enable-source-maps'];
    setHeapGrowth(300);
    expect(setFlags).toHaveBeenCalledWith('--heap-growing-percent=300');
  });

  it.each(['--heap-growing-percent=50', '--heap_growing_percent=50'])(
    "leaves the operator's own %s on the command line alone",
    (operators) => {
      const setFlags = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
      process.execArgv = [operators];
      setHeapGrowth(300);
      expect(setFlags).not.toHaveBeenCalled();
    },
  );
});
