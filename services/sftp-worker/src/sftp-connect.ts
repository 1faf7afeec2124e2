import type { Server } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import {
  connectServer,
  oneSessionOnly,
  type ConnectResult,
  type ServerConnectDeps,
} from '@sallyport/ssh';
import { SftpConnection } from './connection.js';

export interface SftpConnectDeps extends ServerConnectDeps {
  opTimeoutMs: number;
  /** Told when a host key is pinned or refused, to audit it as the session worker does. */
  onHostKey(
    server: Server,
    userId: string,
    verdict: NonNullable<ConnectResult['hostKey']>,
  ): Promise<void>;
  /** Connection time by outcome, for the metrics. */
  onConnected?(outcome: string, seconds: number): void;
  now?: () => number;
}

/**
 * Connects to a server exactly as the session worker does (target policy, pinned host key
 * checked before any credential is sent) and opens the SFTP subsystem on it. Failures come back
 * as catalogue errors with the same messages a terminal shows.
 */
export async function openSftp(
  server: Server,
  userId: string,
  deps: SftpConnectDeps,
): Promise<SftpConnection> {
  const started = performance.now();
  const result = await connectServer(server, deps);
  deps.onConnected?.(result.ok ? 'ok' : result.reason, (performance.now() - started) / 1000);
  if (result.hostKey?.kind === 'pinned' || result.hostKey?.kind === 'mismatch')
    await deps.onHostKey(server, userId, result.hostKey);
  if (!result.ok) {
    const code =
      result.reason === 'target_denied'
        ? 'forbidden'
        : result.reason === 'timeout'
          ? 'gateway_timeout'
          : 'bad_gateway';
    throw new AppError(code, result.message, { reason: result.reason });
  }
  const client = result.client;
  const where = `${server.host}:${server.port}`;
  const sftp = await new Promise<import('ssh2').SFTPWrapper>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end();
      reject(new AppError('gateway_timeout', `${where} did not start SFTP in time`));
    }, deps.opTimeoutMs);
    const sftpOpened = oneSessionOnly(client, result.socket);
    client.sftp((err, sftp) => {
      sftpOpened();
      clearTimeout(timer);
      if (!err) return resolve(sftp);
      client.end();
      reject(new AppError('bad_gateway', `${where} refused SFTP: ${err.message}`));
    });
  });
  return new SftpConnection(client, sftp, {
    where,
    opTimeoutMs: deps.opTimeoutMs,
    now: deps.now ?? Date.now,
  });
}
