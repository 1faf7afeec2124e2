import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '@sallyport/errors';
import type { SftpConnection } from '../connection.js';
import { sftpFailure } from '../errors.js';
import { joinPath, parentOf } from '../path-rules.js';
import { SftpWriter } from '../streams.js';
import { baseName } from './download.js';
import { lstatIfExists, openFile, stat, typeOf } from './entries.js';
import { readSmallFile } from './text.js';
import type { OpContext, Operation } from './context.js';

/** Fails the stream as soon as more than `max` bytes have come: nothing past the limit is kept. */
function byteLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) return callback(tooLarge(max));
      callback(null, chunk);
    },
  });
}

const CANCELLED = 'the upload was cancelled before it was complete';

const tooLarge = (max: number) =>
  new AppError(
    'payload_too_large',
    `the file is larger than ${Math.round(max / 1024 / 1024)} MB, the most an upload may be`,
    { limit: max },
  );

/**
 * Where an upload goes: the named entry, or, when that is a symlink, the file it leads to (so
 * saving through a link edits the file, not replaces the link), which must be allowed too.
 */
async function destination(op: OpContext<'upload'>): Promise<string> {
  const entry = await op.guard.entry(op.params.path);
  const existing = await lstatIfExists(op.conn, entry).catch((err: unknown) => {
    throw sftpFailure(err, `read ${entry}`);
  });
  return existing && typeOf(existing.mode) === 'link' ? op.guard.follow(entry) : entry;
}

/** Refuses an upload that would replace what the user did not mean to replace. */
async function checkReplace(op: OpContext<'upload'>, path: string): Promise<number | undefined> {
  const existing = await stat(op.conn, path).catch(() => undefined);
  if (!existing) {
    if (op.params.ifMatch)
      throw new AppError('conflict', `${path} was deleted since it was opened`, { changed: true });
    return undefined;
  }
  if (typeOf(existing.mode) === 'dir') throw new AppError('conflict', `${path} is a folder`);
  if (op.params.ifMatch) {
    const current = await readSmallFile(op.conn, path);
    if (current.hash !== op.params.ifMatch)
      throw new AppError('conflict', `${path} was changed by someone else since it was opened`, {
        changed: true,
      });
  } else if (!op.params.overwrite) {
    throw new AppError('conflict', `${path} already exists`, { exists: true });
  }
  return existing.mode & 0o7777;
}

async function renameIntoPlace(conn: SftpConnection, from: string, to: string, replacing: boolean) {
  if (conn.hasPosixRename)
    return conn.call((sftp, done) => sftp.ext_openssh_rename(from, to, done));
  // Plain SFTP rename refuses an existing target; without the OpenSSH extension the old file
  // must go first, leaving a moment in which neither exists.
  if (replacing) await conn.call((sftp, done) => sftp.unlink(to, done));
  return conn.call((sftp, done) => sftp.rename(from, to, done));
}

/**
 * Streams the request body to a temporary file beside the destination and renames it into
 * place only once every byte is acknowledged: a failed or cancelled upload never leaves a
 * partial file under the final name.
 */
export const upload: Operation<'upload'> = async (op) => {
  const { conn, limits, request } = op;
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > limits.maxUploadBytes) throw tooLarge(limits.maxUploadBytes);

  const path = await destination(op);
  const mode = await checkReplace(op, path);
  const dir = parentOf(path)!;
  const temp = joinPath(
    dir,
    `.${baseName(path).slice(0, 64)}.${randomBytes(6).toString('hex')}.sallyport-upload`,
  );
  const handle = await openFile(conn, temp, 'wx', mode ?? 0o644).catch((err: unknown) => {
    throw sftpFailure(err, `create a file in ${dir}`);
  });
  const writer = new SftpWriter(conn, handle, op.countBytes);
  const limit = byteLimit(limits.maxUploadBytes);
  // Piped by hand, not through pipeline(): a failure on our side must leave the request open,
  // so the error can still be answered (Node discards the rest of the body).
  request.pipe(limit);
  const cancelled = () => {
    if (!request.complete) limit.destroy(new AppError('bad_request', CANCELLED));
  };
  request.once('close', cancelled);
  let open = true;
  try {
    await pipeline(limit, writer);
    open = false;
    await conn.call((sftp, done) => sftp.close(handle, done));
    await renameIntoPlace(conn, temp, path, mode !== undefined);
  } catch (err) {
    request.unpipe(limit);
    request.resume();
    if (open) await conn.call((sftp, done) => sftp.close(handle, done)).catch(() => undefined);
    // The connection may be gone too; then the temporary file stays, under its own name only.
    await conn.call((sftp, done) => sftp.unlink(temp, done)).catch(() => undefined);
    throw sftpFailure(err, `write ${path}`);
  } finally {
    request.off('close', cancelled);
  }
  await op.audit('file.upload', { path, bytes: writer.written, replaced: mode !== undefined });
  return { kind: 'json', status: 201, body: { path, size: writer.written } };
};
