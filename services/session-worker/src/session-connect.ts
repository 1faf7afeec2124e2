import type { OpenRequest } from '@sallyport/bus';
import type { PrismaClient, Server } from '@sallyport/db';
import { connectServer, type ConnectResult, type ServerConnectDeps } from '@sallyport/ssh';

export interface ConnectDeps extends ServerConnectDeps {
  prisma: PrismaClient;
}

export interface SessionConnectResult {
  /** The server as it was loaded; null when it no longer exists. */
  server: Server | null;
  result: ConnectResult | { ok: false; reason: 'error'; message: string; hostKey?: undefined };
}

/**
 * From an open request to an authenticated SSH connection: load the server, then connect as
 * every service does (libs/ssh: target policy, credentials, pinned host key).
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
  return { server, result: await connectServer(server, deps) };
}
