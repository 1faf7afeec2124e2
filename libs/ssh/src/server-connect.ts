import type { Keyring } from '@sallyport/crypto';
import type { Server } from '@sallyport/db';
import type { KnownHosts } from './known-hosts.js';
import { connectSsh, type ConnectResult, type SshAuth } from './ssh-connect.js';
import type { Cidr, TargetPolicy } from './target-policy.js';

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
  ssh: { connectTimeoutMs: number; keepaliveIntervalMs: number };
}

/**
 * Connects to a registered server the way every service must: the target policy is checked on
 * the resolved address, and the host key is verified against the pinned one before any
 * credential is sent. Callers audit `result.hostKey` (pinned or mismatch) themselves.
 */
export async function connectServer(
  server: Server,
  deps: ServerConnectDeps,
): Promise<ConnectResult> {
  const target = await deps.policy.check(server.host);
  if (!target.ok) return target;
  return connectSsh(
    {
      host: server.host,
      address: target.address,
      port: server.port,
      username: server.username,
      auth: serverAuth(deps.keyring, server),
    },
    { knownHosts: deps.knownHosts, ...deps.ssh },
  );
}
