import { AppError } from '@sallyport/errors';

/** The connection to the target closed: every request still waiting on it fails with this. */
export class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
}

/** The target did not answer one request in time; the connection is dropped with it. */
export class OperationTimeout extends Error {
  override readonly name = 'OperationTimeout';
}

/** A path the rules refuse; answered 403 and audited. */
export class PathDenied extends Error {
  override readonly name = 'PathDenied';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${reason}: ${path}`);
  }
}

// SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks).
const SFTP_STATUS = { eof: 1, noSuchFile: 2, permissionDenied: 3, failure: 4, unsupported: 8 };

export const isSftpStatus = (err: unknown, code: keyof typeof SFTP_STATUS): boolean =>
  (err as { code?: unknown }).code === SFTP_STATUS[code];

/**
 * Every way an SFTP request can fail, as one error a user can act on. `doing` reads as
 * "could not <doing>", e.g. "create the folder /srv/x".
 */
export function sftpFailure(err: unknown, doing: string): Error {
  if (err instanceof AppError || err instanceof PathDenied) return err;
  if (err instanceof ConnectionLost) return new AppError('bad_gateway', err.message);
  if (err instanceof OperationTimeout) return new AppError('gateway_timeout', err.message);
  if (isSftpStatus(err, 'noSuchFile'))
    return new AppError('not_found', `could not ${doing}: no such file or folder`);
  if (isSftpStatus(err, 'permissionDenied'))
    return new AppError('forbidden', `could not ${doing}: the server denied permission`);
  if (isSftpStatus(err, 'unsupported'))
    return new AppError('bad_request', `could not ${doing}: the server does not support it`);
  if (isSftpStatus(err, 'failure'))
    return new AppError('conflict', `could not ${doing}: the server refused`);
  return err instanceof Error ? err : new Error(String(err));
}
