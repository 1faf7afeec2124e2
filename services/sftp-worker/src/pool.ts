import type { Server } from '@sallyport/db';
import type { SftpConnection } from './connection.js';
import { ConnectionLost } from './errors.js';

export interface PoolOptions {
  /** A connection nobody has used for this long is closed. */
  idleTtlMs: number;
  /** Opens a new connection for a user to a server. */
  connect(server: Server, userId: string): Promise<SftpConnection>;
  /** Called with the pool's size whenever it changes (the metrics gauge). */
  onSize?: (size: number) => void;
  now?: () => number;
}

/** A connection lent to one request or stream; `release` exactly once when done. */
export interface Lease {
  conn: SftpConnection;
  release(): void;
}

/**
 * SFTP connections pooled per user and server, on this replica only. A connection that dies is
 * dropped at once, so the next request connects afresh; one idle past the TTL is closed. The
 * key includes the server's `updatedAt`, so a changed address or credential is never served
 * by a connection made with the old one.
 */
export class SftpPool {
  private readonly entries = new Map<string, Promise<SftpConnection>>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: PoolOptions) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => void this.sweep(), Math.min(options.idleTtlMs, 30_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  async acquire(server: Server, userId: string): Promise<Lease> {
    const key = `${userId}:${server.id}:${server.updatedAt.getTime()}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = this.options.connect(server, userId);
      this.entries.set(key, entry);
      this.changed();
      entry.then(
        (conn) => conn.onClose(() => this.forget(key, entry!)),
        () => this.forget(key, entry!),
      );
    }
    const conn = await entry;
    if (!conn.alive) {
      // Closed between the lookup and now: the close listener has dropped it; connect anew.
      this.forget(key, entry);
      return this.acquire(server, userId);
    }
    conn.users += 1;
    conn.touch();
    let released = false;
    return {
      conn,
      release: () => {
        if (released) return;
        released = true;
        conn.users -= 1;
        conn.touch();
      },
    };
  }

  /**
   * Runs `fn` on a pooled connection. A request that only reads is retried once on a fresh
   * connection when the pooled one turns out to be dead (the target dropped it while idle).
   */
  async run<T>(
    server: Server,
    userId: string,
    fn: (conn: SftpConnection) => Promise<T>,
    options: { retry: boolean },
  ): Promise<T> {
    const lease = await this.acquire(server, userId);
    try {
      return await fn(lease.conn);
    } catch (err) {
      if (!options.retry || !(err instanceof ConnectionLost)) throw err;
    } finally {
      lease.release();
    }
    const retry = await this.acquire(server, userId);
    try {
      return await fn(retry.conn);
    } finally {
      retry.release();
    }
  }

  /** Closes connections idle past the TTL. */
  async sweep(): Promise<void> {
    const cutoff = this.now() - this.options.idleTtlMs;
    await Promise.all(
      [...this.entries.values()].map((entry) =>
        entry.then(
          (conn) => {
            if (conn.users === 0 && conn.lastUsed < cutoff) conn.close();
          },
          () => undefined,
        ),
      ),
    );
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.entries.values()];
    this.entries.clear();
    this.changed();
    await Promise.all(
      all.map((entry) =>
        entry.then(
          (conn) => conn.close(),
          () => undefined,
        ),
      ),
    );
  }

  private forget(key: string, entry: Promise<SftpConnection>): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.changed();
  }

  private changed(): void {
    this.options.onSize?.(this.entries.size);
  }
}
