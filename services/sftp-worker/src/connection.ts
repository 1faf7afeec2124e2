import type { Client, SFTPWrapper } from 'ssh2';
import { ConnectionLost, OperationTimeout } from './errors.js';

// SFTP servers must accept packets of 34,000 bytes (draft-ietf-secsh-filexfer-02 §3): 32 KiB
// of data and the request around it.
const MIN_REQUEST_BYTES = 32 * 1024;

type Callback<T> = (err: Error | null | undefined, value?: T) => void;

/**
 * One SFTP session on one SSH connection. ssh2 leaves a request pending for as long as the
 * connection looks open, which for a silently dead target is forever; so every request made
 * through `call` has a deadline, a request that misses it ends the connection, and a connection
 * that ends fails every request still waiting on it with a clear error.
 */
export class SftpConnection {
  private readonly pending = new Set<(err: Error) => void>();
  private readonly closeListeners = new Set<() => void>();
  private lost: Error | undefined;
  /** Requests and streams using this connection now; the pool never closes a busy one as idle. */
  users = 0;
  lastUsed: number;
  /** Anything worth computing once per connection (the canonical roots). */
  readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    private readonly client: Client,
    readonly sftp: SFTPWrapper,
    private readonly options: { where: string; opTimeoutMs: number; now: () => number },
  ) {
    this.lastUsed = options.now();
    const onClose = () =>
      this.fail(new ConnectionLost(`the connection to ${options.where} was lost`));
    client.on('close', onClose);
    sftp.on('close', onClose);
  }

  get alive(): boolean {
    return this.lost === undefined;
  }

  /** The OpenSSH extension that renames over an existing file atomically, if the target has it. */
  get hasPosixRename(): boolean {
    return (
      (this.sftp as SFTPWrapper & { _extensions?: Record<string, string> })._extensions?.[
        'posix-rename@openssh.com'
      ] !== undefined
    );
  }

  /**
   * The most data the target takes in one read and one write request: what ssh2 learned from
   * OpenSSH's limits extension, else the size every server must accept. ssh2 splits a larger
   * request into several sent one after another, which would undo a transfer's pipelining.
   */
  get maxRequestBytes(): { read: number; write: number } {
    const limits = this.sftp as SFTPWrapper & { _maxReadLen?: number; _maxWriteLen?: number };
    return {
      read: limits._maxReadLen ?? MIN_REQUEST_BYTES,
      write: limits._maxWriteLen ?? MIN_REQUEST_BYTES,
    };
  }

  touch(): void {
    this.lastUsed = this.options.now();
  }

  onClose(listener: () => void): void {
    if (this.lost) listener();
    else this.closeListeners.add(listener);
  }

  /** Runs one SFTP request with a deadline. */
  call<T = void>(run: (sftp: SFTPWrapper, done: Callback<T>) => void): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    this.touch();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null | undefined, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(settle);
        this.touch();
        if (err) reject(err);
        else resolve(value as T);
      };
      this.pending.add(settle);
      const timer = setTimeout(() => {
        const ms = this.options.opTimeoutMs;
        const limit = ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
        const err = new OperationTimeout(`${this.options.where} did not answer within ${limit}`);
        settle(err);
        this.close(err);
      }, this.options.opTimeoutMs);
      try {
        run(this.sftp, settle);
      } catch (err) {
        settle(err as Error);
      }
    });
  }

  /** Ends the connection; every pending request fails with `reason`. Idempotent. */
  close(reason: Error = new ConnectionLost(`the connection to ${this.options.where} was closed`)) {
    this.fail(reason);
    this.client.end();
  }

  private fail(err: Error): void {
    if (this.lost) return;
    this.lost = err;
    for (const settle of [...this.pending]) settle(err);
    for (const listener of this.closeListeners) listener();
    this.closeListeners.clear();
  }
}
