import type { SessionBus } from '@sallyport/bus';
import type { Logger } from '@sallyport/log';

/**
 * Notices when the worker owning a session is gone: it polls the owner leases of every session
 * this gateway has clients for, in one round trip. A lease must be seen lapsed twice in a row,
 * so that a session ending normally (its worker releases the lease right after announcing the
 * end) is not mistaken for a lost worker.
 */
export class LeaseWatch {
  private readonly watched = new Map<string, { onLost: () => void; missed: number }>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly bus: SessionBus,
    private readonly log: Logger,
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  /** Watches a session (once: watching it again changes nothing). */
  watch(sessionId: string, onLost: () => void): void {
    if (!this.watched.has(sessionId)) this.watched.set(sessionId, { onLost, missed: 0 });
  }

  unwatch(sessionId: string): void {
    this.watched.delete(sessionId);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.watched.size === 0) return;
    this.polling = true;
    try {
      const ids = [...this.watched.keys()];
      const owners = await this.bus.owners(ids);
      ids.forEach((id, i) => {
        const entry = this.watched.get(id);
        if (!entry) return;
        entry.missed = owners[i] ? 0 : entry.missed + 1;
        if (entry.missed >= 2) {
          this.watched.delete(id);
          entry.onLost();
        }
      });
    } catch (err) {
      // Without the bus nothing can be known; keep the sessions and try again.
      this.log.warn({ err }, 'could not check session owners');
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.watched.clear();
  }
}
