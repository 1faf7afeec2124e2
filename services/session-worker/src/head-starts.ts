import { StartedSocket, type StartedSocketOutcome } from '@sallyport/ssh';

interface Destination {
  address: string;
  port: number;
}

/**
 * Where each server's last session was planned to connect, so that the next session to it can
 * start its TCP connection while the worker still reads the server's row: the server gets on
 * with its own start-up (OpenSSH's sshd starts a process for every connection) meanwhile. The
 * row still decides: the connection keeps the socket only if the row leads to the same address
 * and port, through the target policy as always (connectSsh), and closes it otherwise. The
 * address was the policy's choice for that server last time, so a head start never goes
 * anywhere new.
 */
export class HeadStarts {
  // In the order last used, so the first is the one to let go when full.
  private readonly destinations = new Map<string, Destination>();

  constructor(
    private readonly options: {
      capacity: number;
      paceReads: boolean;
      /** Told what became of each head start (for the worker's metrics). */
      onOutcome?: (outcome: StartedSocketOutcome) => void;
    },
  ) {}

  /** A connection to where the server's last session went; none for a server not yet seen. */
  start(serverId: string): StartedSocket | undefined {
    const destination = this.destinations.get(serverId);
    if (!destination) return undefined;
    const { paceReads, onOutcome } = this.options;
    return new StartedSocket(destination.address, destination.port, paceReads, onOutcome);
  }

  /** Where a session to the server is going now; null when it is going nowhere (no plan). */
  note(serverId: string, destination: Destination | null): void {
    this.destinations.delete(serverId);
    if (!destination) return;
    this.destinations.set(serverId, { address: destination.address, port: destination.port });
    if (this.destinations.size > this.options.capacity) {
      const oldest = this.destinations.keys().next().value;
      if (oldest !== undefined) this.destinations.delete(oldest);
    }
  }
}
