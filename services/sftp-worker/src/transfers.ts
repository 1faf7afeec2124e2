import { AppError } from '@sallyport/errors';

/**
 * How many uploads and downloads each user has running on this replica. With several replicas
 * a user may run this many on each: the limit protects a replica, not a quota.
 */
export class TransferSlots {
  private readonly running = new Map<string, number>();

  constructor(private readonly perUser: number) {}

  /** Takes a slot, or refuses with 429; the returned function gives it back (once). */
  take(userId: string): () => void {
    const count = this.running.get(userId) ?? 0;
    if (count >= this.perUser) {
      throw new AppError(
        'rate_limited',
        `you already have ${count} transfers running; wait for one to finish`,
        { limit: this.perUser },
      );
    }
    this.running.set(userId, count + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.running.get(userId) ?? 1) - 1;
      if (left === 0) this.running.delete(userId);
      else this.running.set(userId, left);
    };
  }
}
