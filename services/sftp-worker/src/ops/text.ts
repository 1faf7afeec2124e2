import { createHash } from 'node:crypto';
import { AppError } from '@sallyport/errors';
import type { TextFile } from '@sallyport/sftp-protocol';
import type { SftpConnection } from '../connection.js';
import { sftpFailure } from '../errors.js';
import { SftpReader } from '../streams.js';
import { openFile, stat, typeOf } from './entries.js';
import type { Operation } from './context.js';

/** The largest file the editor opens; bigger ones are for download. */
export const MAX_EDIT_BYTES = 5 * 1024 * 1024;

/** A small file's bytes and their SHA-256. */
export async function readSmallFile(
  conn: SftpConnection,
  path: string,
): Promise<{ bytes: Buffer; hash: string; mtime: Date }> {
  const stats = await stat(conn, path).catch((err: unknown) => {
    throw sftpFailure(err, `read ${path}`);
  });
  if (typeOf(stats.mode) !== 'file')
    throw new AppError('conflict', `${path} is not a regular file`);
  if (stats.size > MAX_EDIT_BYTES)
    throw new AppError(
      'payload_too_large',
      `${path} is too large to edit here (at most ${MAX_EDIT_BYTES / 1024 / 1024} MB); download it instead`,
    );
  const handle = await openFile(conn, path, 'r').catch((err: unknown) => {
    throw sftpFailure(err, `open ${path}`);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of new SftpReader(conn, handle, stats.size)) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  return {
    bytes,
    hash: createHash('sha256').update(bytes).digest('hex'),
    mtime: new Date(stats.mtime * 1000),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A text file for the editor, with the hash its save must present. */
export const text: Operation<'text'> = async ({ params, conn, guard }) => {
  const path = await guard.follow(params.path);
  const { bytes, hash, mtime } = await readSmallFile(conn, path);
  let content: string;
  try {
    content = utf8.decode(bytes);
  } catch {
    throw new AppError('bad_request', `${path} is not UTF-8 text; download it instead`);
  }
  const body: TextFile = { path, content, hash, size: bytes.length, mtime: mtime.toISOString() };
  return { kind: 'json', body };
};
