import type { Client as SshClient } from 'ssh2';

/** Given no callback, ssh2 asks for no reply (one packet less); its types insist on one. */
interface WithoutReply {
  openssh_noMoreSessions(): unknown;
}

/**
 * Call right after opening the connection's one session channel (its shell, or SFTP): once the
 * server's host-key announcement has been answered, tells it that this connection opens no
 * other session (OpenSSH's `no-more-sessions@openssh.com`).
 *
 * Besides closing a door nothing uses, this saves ~40 ms on every open. Until the shell starts,
 * OpenSSH writes with Nagle's algorithm on: right after login it announces its host keys, ssh2
 * asks it to prove them, and the server's next reply (to the PTY request) then waits for our
 * ACK of the proof — which the kernel delays by 40 ms when we have nothing to send. This message
 * is something to send, so the ACK goes out with it.
 *
 * Sent after the channel open, so the server has already taken our one session; a server that
 * announces no host keys never gets it.
 */
export function oneSessionOnly(client: SshClient): void {
  client.once('hostkeys', () => {
    try {
      (client as unknown as WithoutReply).openssh_noMoreSessions();
    } catch {
      // The connection closed in between: nothing left to protect or to speed up.
    }
  });
}
