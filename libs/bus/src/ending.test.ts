import { describe, expect, it } from 'vitest';
import { retainedBytesPer } from '../../../tests/support/heap.js';
import { Ending } from './ending.js';

/** A promise and the means to settle it later. */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('Ending', () => {
  it("gives an operation's own value or error while it has not ended", async () => {
    const ending = new Ending();
    await expect(ending.race(Promise.resolve('reply'))).resolves.toBe('reply');
    await expect(ending.race(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  });

  it('rejects the races in flight, and every later one, when it ends with an error', async () => {
    const ending = new Ending();
    const never = deferred<string>();
    const inFlight = ending.race(never.promise);
    ending.reject(new Error('closed'));
    await expect(inFlight).rejects.toThrow('closed');
    await expect(ending.race(deferred<string>().promise)).rejects.toThrow('closed');
    // An answer arriving afterwards changes nothing (and is no unhandled rejection).
    never.reject(new Error('late'));
    await expect(inFlight).rejects.toThrow('closed');
  });

  it('gives its value to the races in flight when it ends with one', async () => {
    const ending = new Ending<undefined>();
    const inFlight = ending.race(deferred<string>().promise);
    ending.resolve(undefined);
    await expect(inFlight).resolves.toBeUndefined();
    ending.reject(new Error('ignored: it has ended already'));
    await expect(ending.race(Promise.resolve('later'))).resolves.toBeUndefined();
  });

  it('keeps nothing of the races that are over', async () => {
    const ending = new Ending();
    const perRace = await retainedBytesPer(50_000, async () => {
      for (let i = 0; i < 50_000; i++) await ending.race(Promise.resolve(i));
    });
    // Racing a pending promise with Promise.race kept ~300 bytes a race.
    expect(perRace).toBeLessThan(20);
  });
});
