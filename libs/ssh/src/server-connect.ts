import type { Keyring } from '@sallyport/crypto';
import type { KnownHost, Server } from '@sallyport/db';
import type { KnownHosts } from './known-hosts.js';
import {
  connectSsh,
  type ConnectOptions,
  type ConnectResult,
  type SshAuth,
  type SshTarget,
} from './ssh-connect.js';
import type { Cidr, TargetCheck, TargetPolicy } from './target-policy.js';

/** The keyring context a server's stored secret is encrypted under. */
export const serverSecretContext = (serverId: string, field: 'secret' | 'passphrase') =>
  `server:${serverId}:${field}`;

/** A registered server's credentials, decrypted for one connection. */
export function serverAuth(keyring: Keyring, server: Server): SshAuth {
  const secret = keyring.decrypt(server.secretEncrypted, serverSecretContext(server.id, 'secret'));
  if (server.authType === 'password') return { password: secret };
  return {
    privateKey: secret,
    passphrase: server.passphraseEncrypted
      ? keyring.decrypt(server.passphraseEncrypted, serverSecretContext(server.id, 'passphrase'))
      : undefined,
  };
}

/** How every service connects to targets: one set of settings, from SALLYPORT_SSH_* and SALLYPORT_TARGET_*. */
export interface SshSettings {
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  hostKeyPolicy: 'tofu' | 'strict';
  targetDeny: readonly Cidr[];
  targetAllow?: readonly Cidr[] | undefined;
}

export interface ServerConnectDeps {
  keyring: Keyring;
  knownHosts: KnownHosts;
  policy: TargetPolicy;
  ssh: { connectTimeoutMs: number; keepaliveIntervalMs: number; paceReads?: boolean };
}

/**
 * What is decided before a connection starts: the address, and the key pinned for the host (still
 * being read: the connection needs it only once the TCP connection is up).
 */
export type ConnectionPlan =
  | { ok: true; target: SshTarget; pinned: Promise<KnownHost | null> }
  | Extract<TargetCheck, { ok: false }>;

/**
 * Connects to a registered server the way every service must: the target policy is checked on
 * the resolved address, and the host key is verified against the pinned one before any
 * credential is sent. Callers audit `result.hostKey` (pinned or mismatch) themselves.
 */
export async function connectServer(
  server: Server,
  deps: ServerConnectDeps,
): Promise<ConnectResult> {
  const plan = await planConnection(server, deps);
  return plan.ok ? connectPlanned(plan, deps) : plan;
}

/**
 * `connectServer` in two steps, for callers with other work to do while the connection is
 * made: started after the plan, that work does not delay the plan's lookups.
 */
export async function planConnection(
  server: Server,
  deps: ServerConnectDeps,
): Promise<ConnectionPlan> {
  const pinned = deps.knownHosts.pinned(server.host, server.port);
  pinned.catch(() => undefined); // awaited by the connection; not at all if the policy refuses
  const address = await deps.policy.check(server.host);
  if (!address.ok) return address;
  const target = {
    host: server.host,
    address: address.address,
    port: server.port,
    username: server.username,
    auth: serverAuth(deps.keyring, server),
  };
  return { ok: true, target, pinned };
}

/** The connection itself, as `planConnection` decided it; `login` as for `connectSsh`. */
export function connectPlanned(
  plan: Extract<ConnectionPlan, { ok: true }>,
  deps: ServerConnectDeps,
  login: Pick<ConnectOptions, 'loginWhen' | 'onLogin' | 'headStart'> = {},
): Promise<ConnectResult> {
  return connectSsh(plan.target, {
    knownHosts: deps.knownHosts,
    pinned: plan.pinned,
    ...deps.ssh,
    ...login,
  });
}
