import type { OpenRequest } from '@sallyport/bus';
import type { Keyring } from '@sallyport/crypto';
import type { PrismaClient, Server } from '@sallyport/db';
import { connectSsh, type ConnectResult, type SshAuth } from './ssh-connect.js';
import type { KnownHosts } from './known-hosts.js';
import type { TargetPolicy } from './target-policy.js';

export interface ConnectDeps {
  prisma: PrismaClient;
  keyring: Keyring;
  knownHosts: KnownHosts;
  policy: TargetPolicy;
  ssh: { connectTimeoutMs: number; keepaliveIntervalMs: number };
}

export interface SessionConnectResult {
  /** The server as it was loaded; null when it no longer exists. */
  server: Server | null;
  result: ConnectResult;
}

/**
 * From an open request to an authenticated SSH connection: load the server, check the target
 * against the policy, decrypt its credentials, connect and verify the host key.
 */
export async function connectForRequest(
  request: OpenRequest,
  deps: ConnectDeps,
): Promise<SessionConnectResult> {
  const server = await deps.prisma.server.findUnique({ where: { id: request.serverId } });
  if (!server)
    return {
      server,
      result: { ok: false, reason: 'error', message: 'the server no longer exists' },
    };

  const target = await deps.policy.check(server.host);
  if (!target.ok) return { server, result: target };

  const secret = deps.keyring.decrypt(server.secretEncrypted, `server:${server.id}:secret`);
  const auth: SshAuth =
    server.authType === 'password'
      ? { password: secret }
      : {
          privateKey: secret,
          passphrase: server.passphraseEncrypted
            ? deps.keyring.decrypt(server.passphraseEncrypted, `server:${server.id}:passphrase`)
            : undefined,
        };
  const result = await connectSsh(
    {
      host: server.host,
      address: target.address,
      port: server.port,
      username: server.username,
      auth,
    },
    { knownHosts: deps.knownHosts, ...deps.ssh },
  );
  return { server, result };
}
