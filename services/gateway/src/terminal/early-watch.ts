import type { SessionBus, SessionMessage, Unsubscribe } from '@sallyport/bus';

/**
 * A new session's subscription, made while its socket is still being checked (the rate limit,
 * the upgrade), so that the worker can be asked as soon as the socket opens: the worker must
 * not be asked before the gateway listens. Nothing is published on a new session's channel
 * before its worker is asked, so nothing is missed while no socket takes the messages.
 */
export class EarlyWatch {
  private readonly subscribed: Promise<Unsubscribe>;
  private onMessage: ((msg: SessionMessage) => void) | undefined;
  private state: 'waiting' | 'taken' | 'cancelled' = 'waiting';

  constructor(
    bus: SessionBus,
    readonly sessionId: string,
  ) {
    this.subscribed = bus.watch(sessionId, (msg) => this.onMessage?.(msg));
    // A failure reaches whoever takes the subscription; one nobody takes is of no interest.
    this.subscribed.catch(() => undefined);
  }

  /** The subscription, for the socket's attachment; it rejects once cancelled. */
  take(onMessage: (msg: SessionMessage) => void): Promise<Unsubscribe> {
    if (this.state === 'cancelled')
      return Promise.reject(new Error('the subscription was cancelled'));
    this.state = 'taken';
    this.onMessage = onMessage;
    return this.subscribed;
  }

  /** Unsubscribes, unless the attachment has taken the subscription: then it is the owner's. */
  cancel(): void {
    if (this.state !== 'waiting') return;
    this.state = 'cancelled';
    void this.subscribed.then(
      (unsubscribe) => unsubscribe().catch(() => undefined),
      () => undefined,
    );
  }
}
