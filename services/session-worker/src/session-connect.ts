import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Server } from '@sallyport/db';
import {
  connectPlanned,
  planConnection,
  type ConnectResult,
  type ServerConnectDeps,
} from '@sallyport/ssh';

export type SessionConnectResult<T> =
  | { server: null; result: { ok: false; reason: 'error'; message: string; hostKey?: undefined } }
  | { server: Server; result: ConnectResult; alongside: T };

/**
 * From the session's server (null if it no longer exists) to an authenticated SSH connection,
 * made as every service makes one (libs/ssh: target policy, credentials, pinned host key).
 * `alongside` runs while the connection is being made (what must be done before the shell
 * opens), started once the connection is under way so as not to delay it; if it fails, the
 * connection is closed and its error thrown. The login waits for `loginWhen` (see connectSsh).
 */
export async function connectForSession<T>(
  server: Server | null,
  deps: ServerConnectDeps,
  alongside: (server: Server) => Promise<T>,
  loginWhen?: Promise<boolean>,
): Promise<SessionConnectResult<T>> {
  if (!server)
    return {
      server,
      result: { ok: false, reason: 'error', message: 'the server no longer exists' },
    };
  const plan = await planConnection(server, deps);
  if (!plan.ok) return { server, result: plan, alongside: await alongside(server) };
  const connecting = connectPlanned(plan, deps, loginWhen);
  // A socket connecting to an address makes its connect(2) on the next tick, after every promise
  // job of this turn: what runs alongside starts a turn later, so that it does not go first.
  const [connected, done] = await Promise.allSettled([
    connecting,
    nextTurn().then(() => alongside(server)),
  ]);
  if (done.status === 'rejected') {
    if (connected.status === 'fulfilled' && connected.value.ok) connected.value.client.end();
    throw done.reason;
  }
  if (connected.status === 'rejected') throw connected.reason;
  return { server, result: connected.value, alongside: done.value };
}
