import type { Socket } from 'node:net';
import ssh2, { type Client as SshClient, type ConnectConfig } from 'ssh2';
import type { KnownHost } from '@sallyport/db';
import { algorithmsFor } from './host-key.js';
import { StartedSocket } from './started-socket.js';
import type { HostKeyVerdict, KnownHosts } from './known-hosts.js';

export type SshAuth =
  { password: string } | { privateKey: string; passphrase?: string | undefined };

export interface SshTarget {
  /** The name the server is registered under: host keys are pinned for it. */
  host: string;
  /** The address the policy approved; the connection goes here. */
  address: string;
  port: number;
  username: string;
  auth: SshAuth;
}

/** Why a connection could not be made; a subset of the bus's session end reasons. */
export type ConnectFailure =
  'connect_failed' | 'auth_failed' | 'host_key_mismatch' | 'target_denied' | 'timeout';

export type ConnectResult =
  | {
      ok: true;
      client: SshClient;
      /** The TCP connection under the client (see oneSessionOnly). */
      socket: Socket;
      hostKey: HostKeyVerdict & { kind: 'match' | 'pinned' };
    }
  | { ok: false; reason: ConnectFailure; message: string; hostKey?: HostKeyVerdict };

export interface ConnectOptions {
  knownHosts: KnownHosts;
  /** The key pinned for the host, from `knownHosts.pinned()`; awaited once the socket connects. */
  pinned: Promise<KnownHost | null>;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** Read bulk output in fewer, larger pieces (`pacedSocket`): for terminal sessions. */
  paceReads?: boolean | undefined;
  /**
   * Whether to log in, decided while the connection is made: the key exchange goes on, and the
   * host key is checked (and pinned) and credentials sent only once this resolves true; false
   * calls the connection off. Default: log in.
   */
  loginWhen?: Promise<boolean> | undefined;
  /**
   * Called as the login starts, once the host key has been accepted (never for a refused one):
   * see `connectForSession` for why work meant to run alongside the connection waits for it.
   */
  onLogin?: (() => void) | undefined;
  /**
   * A TCP connection started before the target was known for sure (for a server's address as
   * it last was). It is used if it goes to the target's address and port, and closed otherwise.
   */
  headStart?: StartedSocket | undefined;
}

/**
 * Opens an authenticated SSH connection, verifying the host key before any credential is sent,
 * and turns every way this can fail into a reason and a message a user can act on. The TCP
 * connection starts at once; the pinned key is awaited only before ssh2 takes the socket (the
 * server takes longer than that lookup to send its greeting).
 */
export async function connectSsh(
  target: SshTarget,
  options: ConnectOptions,
): Promise<ConnectResult> {
  const where = `${target.host}:${target.port}`;
  options.pinned.catch(() => undefined); // not awaited if the socket cannot even be made
  const started = socketFor(target, options);
  let pinned: KnownHost | null;
  try {
    pinned = await options.pinned;
  } catch (err) {
    started.discard();
    throw err;
  }
  const early = started.handOver();
  if (early) return { ok: false, ...describeFailure(early, target, where, undefined) };
  return handshake(started.socket, target, { ...options, pinned });
}

/** The head start if it goes where the target does; a new connection otherwise. */
function socketFor(target: SshTarget, options: ConnectOptions): StartedSocket {
  const { headStart } = options;
  if (headStart?.goesTo(target.address, target.port)) return headStart;
  headStart?.discard(); // the server has moved since the head start was made
  return new StartedSocket(target.address, target.port, options.paceReads ?? false);
}

/** ssh2 on a socket already connecting or connected (it tells the two apart), to `ready`. */
function handshake(
  socket: Socket,
  target: SshTarget,
  options: Omit<ConnectOptions, 'pinned'> & { pinned: KnownHost | null },
): Promise<ConnectResult> {
  const where = `${target.host}:${target.port}`;
  const { pinned } = options;
  const pinnedFirst = pinned && algorithmsFor(pinned.keyType);
  let verdict: HostKeyVerdict | undefined;
  let calledOff = false;
  const verify = async (key: Buffer): Promise<boolean> => {
    if (options.loginWhen && !(await options.loginWhen)) {
      calledOff = true;
      return false;
    }
    verdict = await options.knownHosts.verify(target.host, target.port, key, pinned);
    const trusted = verdict.kind === 'match' || verdict.kind === 'pinned';
    if (trusted) options.onLogin?.();
    return trusted;
  };

  const config: ConnectConfig = {
    username: target.username,
    readyTimeout: options.connectTimeoutMs,
    // ssh2 leaves keepalive off by default; without it a dead target is never noticed.
    keepaliveInterval: options.keepaliveIntervalMs,
    keepaliveCountMax: 3,
    tryKeyboard: false,
    ...('password' in target.auth
      ? { password: target.auth.password }
      : { privateKey: target.auth.privateKey, passphrase: target.auth.passphrase }),
    // ssh2's `prepend` skips what its default list already holds (all but ed25519 further
    // down), so the pinned type's algorithms are taken out first: keys apply in order.
    ...(pinnedFirst
      ? { algorithms: { serverHostKey: { remove: pinnedFirst, prepend: pinnedFirst } } }
      : {}),
    hostVerifier: (key: Buffer, accept: (ok: boolean) => void) => {
      verify(key).then(accept, () => accept(false));
    },
  } as ConnectConfig;

  return new Promise<ConnectResult>((resolve) => {
    const client = new ssh2.Client();
    client.once('ready', () => {
      client.removeAllListeners('error');
      client.on('error', () => undefined); // later errors surface as the channel closing
      resolve({
        ok: true,
        client,
        socket,
        hostKey: verdict as HostKeyVerdict & { kind: 'match' | 'pinned' },
      });
    });
    // Listened to for good, not once: ssh2 can report one failure twice (a timeout or a reset
    // before the greeting is followed by "Connection lost before handshake" when the socket
    // closes), and an error with no listener would take the process down.
    let failed = false;
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (failed) return;
      failed = true;
      client.end();
      if (calledOff)
        return resolve({
          ok: false,
          reason: 'connect_failed',
          message: `the login to ${where} was called off`,
        });
      resolve({
        ok: false,
        ...describeFailure(err, target, where, verdict),
        ...(verdict ? { hostKey: verdict } : {}),
      });
    });
    try {
      client.connect({ ...config, sock: socket });
      // No Nagle delay, from the first packet: the handshake sends messages back to back (the
      // second would wait ~40 ms for the server's delayed ACK), and keystrokes go out at once,
      // as OpenSSH does for interactive sessions.
      client.setNoDelay(true);
    } catch (err) {
      socket.destroy();
      // ssh2 throws synchronously for a key it cannot parse or decrypt.
      resolve({
        ok: false,
        reason: 'auth_failed',
        message: `the private key for ${target.username}@${target.host} could not be used: ${(err as Error).message}`,
      });
    }
  });
}

function describeFailure(
  err: Error & { level?: string; code?: string },
  target: SshTarget,
  where: string,
  verdict: HostKeyVerdict | undefined,
): { reason: ConnectFailure; message: string } {
  if (verdict?.kind === 'mismatch') {
    // The host is asked for the pinned key's type first; one without such a key shows another.
    const what =
      verdict.keyType === verdict.pinnedKeyType
        ? `has changed: pinned ${verdict.pinnedFingerprint}, presented ${verdict.fingerprint}`
        : `is not the pinned one: an ${verdict.pinnedKeyType} key is pinned (${verdict.pinnedFingerprint}), and the host presented no such key but an ${verdict.keyType} one (${verdict.fingerprint})`;
    return {
      reason: 'host_key_mismatch',
      message: `host key for ${where} ${what}. Connection refused before authentication; if the change is expected, an admin can forget the pinned key or pin the new one (Edit → Host key).`,
    };
  }
  if (verdict?.kind === 'unknown') {
    return {
      reason: 'host_key_mismatch',
      message: `host key for ${where} (${verdict.fingerprint}) is not pinned and strict host key checking is on; an admin can pin the host's key (Edit → Host key)`,
    };
  }
  if (err.level === 'client-authentication') {
    return {
      reason: 'auth_failed',
      message: `authentication failed for ${target.username}@${target.host}`,
    };
  }
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') {
    return { reason: 'timeout', message: `timed out connecting to ${where}` };
  }
  switch (err.code ?? '') {
    case 'ECONNREFUSED':
      return { reason: 'connect_failed', message: `connection refused by ${where}` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { reason: 'connect_failed', message: `${where} is unreachable` };
    case 'ECONNRESET':
      return { reason: 'connect_failed', message: `connection to ${where} was reset` };
    default:
      return { reason: 'connect_failed', message: `could not connect to ${where}: ${err.message}` };
  }
}
