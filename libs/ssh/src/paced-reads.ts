import { Socket, type SocketConstructorOpts } from 'node:net';

export interface ReadPacing {
  /** How long a busy socket is left unread; what arrives meanwhile is read in one go. */
  holdMs: number;
  /** This many bytes arriving within `holdMs` make the socket busy. */
  busyBytes: number;
}

// Bulk output brings 40 KB or more in 2 ms; a login, a prompt or a full-screen redraw never
// brings 16 KB that fast, so none of them waits.
export const TERMINAL_READ_PACING: ReadPacing = { holdMs: 2, busyBytes: 16 * 1024 };

/**
 * A TCP socket that reads a stream in fewer, larger pieces.
 *
 * A shell printing as fast as it can reaches us as one SSH packet per PTY read, a kilobyte or
 * two each, and a reader that keeps up wakes for every one: a syscall, a pass through ssh2's
 * parser and streams, an event-loop turn. On two cores that was a third of the session worker's
 * CPU during bulk output, CPU the shell and sshd needed too. Once `busyBytes` have arrived
 * within `holdMs`, the socket is left unread for `holdMs` and the kernel gathers what comes
 * meanwhile, to be read at once. Keystroke echo and prompts never arrive that fast, so they are
 * read the moment they come.
 *
 * The pause starts after everything already readable has been read (libuv reads it all in the
 * same poll phase), so a burst larger than one read buffer is not cut short: the hold costs a
 * fast stream at most `holdMs` once per burst.
 */
export function pacedSocket(pacing: ReadPacing = TERMINAL_READ_PACING): Socket {
  // A paused socket still reads until its buffer reaches the high-water mark (16 KiB); with a
  // mark of one byte it stops after the chunk in hand, which is what makes the hold a hold.
  // (net.Socket hands its options to stream.Duplex; Node's types leave this one out.)
  const socket = new Socket({ readableHighWaterMark: 1 } as SocketConstructorOpts);
  let windowStart = -Infinity;
  let windowBytes = 0;
  let holding = false;
  let resumeTimer: NodeJS.Timeout | undefined;

  const resume = (): void => {
    holding = false;
    windowStart = performance.now();
    windowBytes = 0;
    if (!socket.destroyed) socket.resume();
  };

  socket.on('data', (chunk: Buffer) => {
    if (holding) return;
    const now = performance.now();
    if (now - windowStart > pacing.holdMs) {
      windowStart = now;
      windowBytes = 0;
    }
    windowBytes += chunk.length;
    if (windowBytes < pacing.busyBytes) return;
    holding = true;
    setImmediate(() => {
      if (socket.destroyed) return;
      socket.pause();
      resumeTimer = setTimeout(resume, pacing.holdMs);
    });
  });
  socket.once('close', () => clearTimeout(resumeTimer));
  return socket;
}
