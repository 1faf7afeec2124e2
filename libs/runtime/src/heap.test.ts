import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setHeapFloor, setHeapGrowth } from './heap.js';

const execArgv = process.execArgv;
afterEach(() => {
  process.execArgv = execArgv;
  vi.restoreAllMocks();
});

describe.each([
  [
    'setHeapGrowth',
    () => setHeapGrowth(300),
    '--heap-growing-percent=300',
    '--heap-growing-percent=50',
  ],
  [
    'setHeapFloor',
    () => setHeapFloor(128),
    '--initial-old-space-size=128',
    '--initial_old_space_size=64',
  ],
])('%s', (_name, set, flag, operators) => {
  it('sets the V8 flag at start-up', () => {
    const setFlags = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    process.execArgv = ['--enable-source-maps'];
    set();
    expect(setFlags).toHaveBeenCalledWith(flag);
  });

  it("leaves the operator's own setting on the command line alone", () => {
    const setFlags = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => undefined);
    process.execArgv = [operators];
    set();
    expect(setFlags).not.toHaveBeenCalled();
  });
});
