import { AppError } from '@sallyport/errors';
import type { SftpConnection } from '../connection.js';
import { isSftpStatus, sftpFailure } from '../errors.js';
import { joinPath } from '../path-rules.js';
import { lstatIfExists, readdir, typeOf } from './entries.js';
import type { Operation } from './context.js';

const done = (body: Record<string, unknown>) => ({ kind: 'json' as const, body });

export const mkdir: Operation<'mkdir'> = async ({ params, conn, guard, audit }) => {
  const path = await guard.entry(params.path);
  if (await lstatIfExists(conn, path)) throw new AppError('conflict', `${path} already exists`);
  await conn
    .call((sftp, cb) => sftp.mkdir(path, { mode: 0o755 }, cb))
    .catch((err: unknown) => {
      throw sftpFailure(err, `create the folder ${path}`);
    });
  await audit('file.mkdir', { path });
  return { kind: 'json', status: 201, body: { path } };
};

/** Rename or move; both ends are entries, so a symlink is moved, not what it leads to. */
export const rename: Operation<'rename'> = async ({ params, conn, guard, audit }) => {
  const from = await guard.entry(params.from);
  const to = await guard.entry(params.to);
  if (!(await lstatIfExists(conn, from))) throw new AppError('not_found', `${from} does not exist`);
  if (from === to) return done({ from, to });
  if (to.startsWith(`${from}/`)) throw new AppError('conflict', `cannot move ${from} into itself`);
  const existing = await lstatIfExists(conn, to);
  if (existing && !params.overwrite)
    throw new AppError('conflict', `${to} already exists`, { exists: true });
  if (existing && typeOf(existing.mode) === 'dir')
    throw new AppError('conflict', `${to} is a folder and is not replaced`);
  const move =
    existing && conn.hasPosixRename
      ? conn.call((sftp, cb) => sftp.ext_openssh_rename(from, to, cb))
      : (existing ? conn.call((sftp, cb) => sftp.unlink(to, cb)) : Promise.resolve()).then(() =>
          conn.call((sftp, cb) => sftp.rename(from, to, cb)),
        );
  await move.catch((err: unknown) => {
    throw sftpFailure(err, `move ${from} to ${to}`);
  });
  await audit('file.rename', { from, to, replaced: existing !== undefined });
  return done({ from, to });
};

/** Deletes depth first, never following a symlink out of the tree. Returns what it removed. */
async function removeTree(conn: SftpConnection, path: string, isDir: boolean): Promise<number> {
  if (!isDir) {
    await conn.call((sftp, cb) => sftp.unlink(path, cb));
    return 1;
  }
  let removed = 0;
  for (const file of await readdir(conn, path)) {
    if (file.filename === '.' || file.filename === '..') continue;
    removed += await removeTree(
      conn,
      joinPath(path, file.filename),
      typeOf(file.attrs.mode) === 'dir',
    );
  }
  await conn.call((sftp, cb) => sftp.rmdir(path, cb));
  return removed + 1;
}

export const remove: Operation<'delete'> = async ({ params, conn, guard, audit }) => {
  const path = await guard.entry(params.path);
  const stats = await lstatIfExists(conn, path);
  if (!stats) throw new AppError('not_found', `${path} does not exist`);
  const isDir = typeOf(stats.mode) === 'dir';
  let removed: number;
  try {
    if (isDir && !params.recursive) {
      await conn.call((sftp, cb) => sftp.rmdir(path, cb));
      removed = 1;
    } else {
      removed = await removeTree(conn, path, isDir);
    }
  } catch (err) {
    if (isDir && !params.recursive && isSftpStatus(err, 'failure'))
      throw new AppError('conflict', `${path} is not empty; delete it recursively`, {
        notEmpty: true,
      });
    // A recursive delete that failed half way has still removed something: record that too.
    if (params.recursive) await audit('file.delete_failed', { path, recursive: true });
    throw sftpFailure(err, `delete ${path}`);
  }
  await audit('file.delete', { path, recursive: params.recursive, removed });
  return done({ path, removed });
};

export const chmod: Operation<'chmod'> = async ({ params, conn, guard, audit }) => {
  const path = await guard.follow(params.path);
  const mode = parseInt(params.mode, 8);
  await conn
    .call((sftp, cb) => sftp.chmod(path, mode, cb))
    .catch((err: unknown) => {
      throw sftpFailure(err, `change the permissions of ${path}`);
    });
  await audit('file.chmod', { path, mode: params.mode });
  return done({ path, mode: params.mode });
};
