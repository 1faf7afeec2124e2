import { fileOperations, type FileOperation } from './operations.js';

/** The per-server switches an admin sets. */
export interface SftpSwitches {
  sftpEnabled: boolean;
  sftpReadOnly: boolean;
}

/**
 * Why a server's switches refuse an operation, or undefined when they allow it. Both the
 * gateway (to refuse early) and the sftp-worker (which trusts only what it reads itself) ask.
 */
export function switchRefusal(server: SftpSwitches, op: FileOperation): string | undefined {
  if (!server.sftpEnabled) return 'file access (SFTP) is turned off for this server';
  if (server.sftpReadOnly && fileOperations[op].mutating)
    return 'file access to this server is read-only';
  return undefined;
}
