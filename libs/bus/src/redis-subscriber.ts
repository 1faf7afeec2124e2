// Every subscription of a transport shares one subscriber connection (a connection in
// subscribe mode is spent on it), with a reference count per channel, as Socket.IO's Redis
// adapter does. After a reconnect ioredis re-issues SUBSCRIBE for every channel it tracked
// (autoResubscribe, on by default), so subscriptions resume without our help; messages
// published while the connection was down are lost, which "at most once" allows.
import type { Redis } from 'ioredis';
import type { BusLogger } from './logger.js';
import type { Unsubscribe } from './transport.js';

interface Listener {
  readonly onMessage: (payload: Buffer) => void;
}

interface ChannelEntry {
  readonly listeners: Set<Listener>;
  /** Settles when Redis confirmed the SUBSCRIBE. Shared by everyone who joins meanwhile. */
  readonly subscribed: Promise<void>;
}

export class SharedSubscriber {
  private readonly channels = new Map<string, ChannelEntry>();

  constructor(
    private readonly connection: Redis,
    private readonly logger: BusLogger,
  ) {
    // messageBuffer, not message: terminal output is binary, and a string round trip would
    // corrupt every byte sequence that is not valid UTF-8.
    connection.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.dispatch(channel.toString(), message);
    });
  }

  async subscribe(channel: string, onMessage: (payload: Buffer) => void): Promise<Unsubscribe> {
    let entry = this.channels.get(channel);
    if (!entry) {
      const created: ChannelEntry = {
        listeners: new Set(),
        subscribed: this.connection.subscribe(channel).then(() => undefined),
      };
      // A failed SUBSCRIBE must not stay cached, so the next subscribe() tries again.
      created.subscribed.catch(() => {
        if (this.channels.get(channel) === created) this.channels.delete(channel);
      });
      this.channels.set(channel, created);
      entry = created;
    }
    const listener: Listener = { onMessage };
    entry.listeners.add(listener);
    try {
      await entry.subscribed;
    } catch (err) {
      entry.listeners.delete(listener);
      throw err;
    }
    const joined = entry;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      await this.leave(channel, joined, listener);
    };
  }

  /** Forget every listener; the connection is about to close, which ends its subscriptions. */
  clear(): void {
    this.channels.clear();
  }

  private async leave(channel: string, entry: ChannelEntry, listener: Listener): Promise<void> {
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0 || this.channels.get(channel) !== entry) return;
    // Dropped from the map first: a subscribe() arriving now creates a fresh entry whose
    // SUBSCRIBE goes out after this UNSUBSCRIBE on the same connection, so Redis ends subscribed.
    this.channels.delete(channel);
    if (this.connection.status === 'end') return;
    await this.connection.unsubscribe(channel);
  }

  private dispatch(channel: string, message: Buffer): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    for (const listener of [...entry.listeners]) {
      // A throw here would escape into ioredis's parser and be rethrown as an uncaught exception.
      try {
        listener.onMessage(message);
      } catch (err) {
        this.logger.error({ err, channel }, 'bus: subscriber threw');
      }
    }
  }
}
