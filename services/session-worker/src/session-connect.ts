import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Server } from '@sallyport/db';
import {
  connectPlanned,
  planConnection,
  type ConnectResult,
  type ServerConnectDeps,
  type SshTarget,
  type StartedSocket,
} from '@sallyport/ssh';

export type SessionConnectResult<T> =
  | { server: null; result: { ok: false; reason: 'error'; message: string; hostKey?: undefined } }
  | { server: Server; result: ConnectResult; alongside: T };

export interface SessionConnectOptions {
  /** The login waits for it (see connectSsh). */
  loginWhen?: Promise<boolean> | undefined;
  /** A TCP connection started before the server's row was read (see HeadStarts). */
  headStart?: StartedSocket | undefined;
  /** Told where the connection is going, or null when it goes nowhere (no server, refused). */
  onPlanned?: ((target: SshTarget | null) => void) | undefined;
}

/**
 * From the session's server (null if it no longer exists) to an authenticated SSH connection,
 * made as every service makes one (libs/ssh: target policy, credentials, pinned host key).
 * `alongside` runs while the connection is being made (what must be done before the shell
 * opens), started as the login starts so as not to delay the key exchange (or once the attempt
 * has failed); if it fails, the connection is closed and its error thrown.
 */
export async function connectForSession<T>(
  server: Server | null,
  deps: ServerConnectDeps,
  alongside: (server: Server) => Promise<T>,
  options: SessionConnectOptions = {},
): Promise<SessionConnectResult<T>> {
  try {
    return await planAndConnect(server, deps, alongside, options);
  } finally {
    // A head start the connection did not take (no server, refused, a failure) is closed.
    options.headStart?.discard();
  }
}

async function planAndConnect<T>(
  server: Server | null,
  deps: ServerConnectDeps,
  alongside: (server: Server) => Promise<T>,
  { loginWhen, headStart, onPlanned }: SessionConnectOptions,
): Promise<SessionConnectResult<T>> {
  if (!server) {
    onPlanned?.(null);
    return {
      server,
      result: { ok: false, reason: 'error', message: 'the server no longer exists' },
    };
  }
  const plan = await planConnection(server, deps);
  onPlanned?.(plan.ok ? plan.target : null);
  if (!plan.ok) return { server, result: plan, alongside: await alongside(server) };
  let loggingIn = (): void => undefined;
  const loginStarted = new Promise<void>((resolve) => (loggingIn = resolve));
  const connecting = connectPlanned(plan, deps, { loginWhen, onLogin: loggingIn, headStart });
  const ended = connecting.then(
    () => undefined,
    () => undefined,
  );
  // What runs alongside takes the event loop for milliseconds and keeps the database busy
  // (queries, an audit write, a terminal to build). During the key exchange, which waits on the
  // server's start-up and on each side's turn, that held the host key up by 5–8 ms on a two-core
  // machine (the first prompt by about 4); the login, with its round trips and the server's
  // check of the credentials, has room for it. It starts a turn after the host key is accepted.
  const [connected, done] = await Promise.allSettled([
    connecting,
    Promise.race([loginStarted, ended])
      .then(() => nextTurn())
      .then(() => alongside(server)),
  ]);
  if (done.status === 'rejected') {
    if (connected.status === 'fulfilled' && connected.value.ok) connected.value.client.end();
    throw done.reason;
  }
  if (connected.status === 'rejected') throw connected.reason;
  return { server, result: connected.value, alongside: done.value };
}
