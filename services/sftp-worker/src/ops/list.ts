import { joinPath, parentOf } from '../path-rules.js';
import { sftpFailure } from '../errors.js';
import type { Entry, Listing } from '@sallyport/sftp-protocol';
import { readdir, stat, toEntry, typeOf } from './entries.js';
import type { Operation } from './context.js';

const byKey: Record<'name' | 'size' | 'mtime', (a: Entry, b: Entry) => number> = {
  name: (a, b) => a.name.localeCompare(b.name, 'en'),
  size: (a, b) => a.size - b.size,
  mtime: (a, b) => a.mtime.localeCompare(b.mtime),
};

/**
 * A directory, folders first, sorted and sliced into one page. The whole directory is read
 * (SFTP has no server-side paging) but only one page is sent, and only the page's symlinks are
 * followed to find out whether they lead to folders.
 */
export const list: Operation<'list'> = async ({ params, conn, guard }) => {
  const dir = params.path === undefined ? await guard.home() : await guard.follow(params.path);
  const all = (await readdir(conn, dir))
    .filter((f) => f.filename !== '.' && f.filename !== '..')
    .filter((f) => params.hidden || !f.filename.startsWith('.'))
    .map(toEntry);
  const direction = params.order === 'asc' ? 1 : -1;
  all.sort(
    (a, b) =>
      Number(b.type === 'dir') - Number(a.type === 'dir') ||
      direction * byKey[params.sort](a, b) ||
      a.name.localeCompare(b.name, 'en'),
  );
  const page = all.slice(params.offset, params.offset + params.limit);
  await Promise.all(
    page
      .filter((e) => e.type === 'link')
      .map(async (e) => {
        const followed = await stat(conn, joinPath(dir, e.name)).catch(() => undefined);
        const type = followed ? typeOf(followed.mode) : 'broken';
        e.target = type === 'link' ? 'other' : type;
      }),
  );
  const parent = parentOf(dir);
  const body: Listing = {
    path: dir,
    parent: parent !== undefined && (await guard.allows(parent)) ? parent : null,
    roots: await guard.roots(),
    total: all.length,
    offset: params.offset,
    limit: params.limit,
    entries: page,
  };
  return { kind: 'json', body };
};

/** One path's details, symlinks followed. */
export const statPath: Operation<'stat'> = async ({ params, conn, guard }) => {
  const path = await guard.follow(params.path);
  const stats = await stat(conn, path).catch((err: unknown) => {
    throw sftpFailure(err, `read ${path}`);
  });
  const name = path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1);
  return {
    kind: 'json',
    body: {
      path,
      entry: toEntry({ filename: name, longname: '', attrs: stats }),
    },
  };
};
