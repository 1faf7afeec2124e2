import { Socket } from 'node:net';
import { pacedSocket } from './paced-reads.js';

/** What became of a started socket: handed to a connection, or closed unused. */
export type StartedSocketOutcome = 'used' | 'discarded';

/**
 * A TCP connection to a target, started before ssh2 is given it. Until then it is paused (a
 * paced socket reads as soon as it connects, and the server's greeting would go to no one) and
 * an error that comes meanwhile is kept, for the connection to report.
 */
export class StartedSocket {
  readonly socket: Socket;
  private earlyError: Error | undefined;
  private settled = false;
  private readonly keepError = (err: Error): void => {
    this.earlyError ??= err;
  };

  /**
   * @param paceReads read as `pacedSocket` does; must match the connection that takes it
   * @param onOutcome told once, when the socket is handed over or discarded
   */
  constructor(
    readonly address: string,
    readonly port: number,
    paceReads: boolean,
    private readonly onOutcome?: (outcome: StartedSocketOutcome) => void,
  ) {
    this.socket = paceReads ? pacedSocket() : new Socket();
    this.socket.pause();
    this.socket.on('error', this.keepError);
    try {
      this.socket.connect({ host: address, port });
    } catch (err) {
      // An address or port Node refuses outright (say, a port out of range).
      this.earlyError = err as Error;
      this.socket.destroy();
    }
  }

  goesTo(address: string, port: number): boolean {
    return this.address === address && this.port === port;
  }

  /**
   * Gives the socket up to whoever takes it in the same turn, who must listen for its errors
   * from then on; returns the error that came before, if any.
   */
  handOver(): Error | undefined {
    this.socket.off('error', this.keepError);
    this.settle('used');
    return this.earlyError;
  }

  /** Closes a socket that will not be used; one handed over is no longer its to close. */
  discard(): void {
    if (this.settled) return;
    this.socket.destroy();
    this.settle('discarded');
  }

  private settle(outcome: StartedSocketOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.onOutcome?.(outcome);
  }
}
