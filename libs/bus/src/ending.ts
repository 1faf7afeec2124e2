type Outcome<E> = { ok: true; value: E } | { ok: false; error: Error };

/**
 * Something that will end one day (a transport closing, a consumer giving up on Redis), and
 * operations that must not outlive it: each is raced against the ending.
 *
 * `Promise.race([operation, ended])` says the same, but every race leaves a reaction on `ended`
 * that stays until `ended` settles. For a promise that stays pending for the life of the
 * process, that is a few hundred bytes kept for every Redis command ever sent (measured: 313 per
 * publish). Here only the operations still in flight are held.
 */
export class Ending<E = never> {
  private readonly inFlight = new Set<(outcome: Outcome<E>) => void>();
  private outcome: Outcome<E> | undefined;

  /** `operation`'s outcome, or the ending's if that comes first (or came already). */
  race<T>(operation: Promise<T>): Promise<T | E> {
    const ended = this.outcome;
    if (ended) {
      void operation.catch(() => {}); // nobody waits for it any more
      return ended.ok ? Promise.resolve(ended.value) : Promise.reject(ended.error);
    }
    return new Promise<T | E>((resolve, reject) => {
      const end = (outcome: Outcome<E>): void => {
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      };
      this.inFlight.add(end);
      const forget = (): void => void this.inFlight.delete(end);
      operation.then(forget, forget);
      operation.then(resolve, reject);
    });
  }

  /** Ends with `value`: every race in flight, and every later one, gives it. */
  resolve(value: E): void {
    this.end({ ok: true, value });
  }

  /** Ends with `error`: every race in flight, and every later one, rejects with it. */
  reject(error: Error): void {
    this.end({ ok: false, error });
  }

  private end(outcome: Outcome<E>): void {
    if (this.outcome) return;
    this.outcome = outcome;
    for (const end of [...this.inFlight]) end(outcome);
  }
}
