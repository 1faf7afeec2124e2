import type { Socket } from 'node:net';
import type { Client as SshClient } from 'ssh2';

/** Given no callback, ssh2 asks for no reply (one packet less); its types insist on one. */
interface WithoutReply {
  openssh_noMoreSessions(): unknown;
}

/**
 * Call as the connection's one session channel (its shell, or SFTP) is asked for, with nothing
 * awaited in between, and pass the connection's socket; call the function it returns once the
 * shell (or SFTP) has started, or failed. Meanwhile, every time the server sends something, it
 * answers that this connection opens no other session (`no-more-sessions@openssh.com`; ssh2 sends
 * it to OpenSSH servers only). Its first answer can only follow the request (ssh2 writes the
 * request at once, or during a key exchange queues it ahead of what is sent later), so the server
 * has already taken our one session.
 *
 * Besides closing a door nothing uses, this saves 40 ms on many opens. Until a shell starts (for
 * SFTP, throughout), OpenSSH writes with Nagle's algorithm on: a packet waits for the ACK of the
 * one before it, and our kernel delays that ACK by 40 ms when we have nothing to send. While the
 * channel opens the server sends things we have no answer to: after the login it announces its
 * host keys (ssh2 asks it to prove them, and the proof needs no answer), and after a key login a
 * debug message (the key's options). Its answer to our channel request then waited for our ACK
 * (see docs/performance.md). The message carries the ACK at once.
 */
export function oneSessionOnly(client: SshClient, socket: Socket): () => void {
  let opening = true;
  const answer = (): void => {
    // The data that brought the channel's start is still handed to this listener once.
    if (!opening) return;
    try {
      (client as unknown as WithoutReply).openssh_noMoreSessions();
    } catch {
      // The connection closed in between: nothing left to protect or to speed up.
    }
  };
  socket.on('data', answer);
  return () => {
    opening = false;
    socket.off('data', answer);
  };
}
