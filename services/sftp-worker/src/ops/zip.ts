import { PassThrough } from 'node:stream';
import yazl from 'yazl';
import { AppError } from '@sallyport/errors';
import type { SftpConnection } from '../connection.js';
import { sftpFailure } from '../errors.js';
import { joinPath } from '../path-rules.js';
import { SftpReader } from '../streams.js';
import { baseName } from './download.js';
import { openFile, readdir, typeOf } from './entries.js';
import type { Operation } from './context.js';

// The tree is listed before the first byte is sent, so that a folder over the size limit gets
// a clear 413 rather than a broken download; this bounds the listing's memory too.
const MAX_ENTRIES = 200_000;

interface TreeEntry {
  /** Path inside the ZIP, "/"-separated, relative to the folder. */
  name: string;
  path: string;
  type: 'file' | 'dir';
  size: number;
  mode: number;
  mtime: Date;
}

/**
 * Lists a folder depth first. Symlinks are not followed (a link out of an allowed root must not
 * smuggle its target into the ZIP) and special files are skipped; the ZIP holds regular files
 * and folders only.
 */
async function walk(conn: SftpConnection, root: string, maxBytes: number): Promise<TreeEntry[]> {
  const found: TreeEntry[] = [];
  let bytes = 0;
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const file of await readdir(conn, dir)) {
      if (file.filename === '.' || file.filename === '..') continue;
      const type = typeOf(file.attrs.mode);
      if (type !== 'file' && type !== 'dir') continue;
      const entry: TreeEntry = {
        name: prefix + file.filename,
        path: joinPath(dir, file.filename),
        type,
        size: type === 'file' ? file.attrs.size : 0,
        mode: file.attrs.mode,
        mtime: new Date(file.attrs.mtime * 1000),
      };
      found.push(entry);
      bytes += entry.size;
      if (bytes > maxBytes)
        throw new AppError(
          'payload_too_large',
          `the folder holds more than ${formatMb(maxBytes)} MB, the most a ZIP download may contain`,
        );
      if (found.length > MAX_ENTRIES)
        throw new AppError(
          'payload_too_large',
          `the folder holds more than ${MAX_ENTRIES} entries`,
        );
      if (type === 'dir') await visit(entry.path, `${entry.name}/`);
    }
  };
  await visit(root, '');
  return found;
}

const formatMb = (bytes: number) => Math.round(bytes / (1024 * 1024));

/** A folder as a ZIP, each file read from the target only when the ZIP reaches it. */
export const zip: Operation<'zip'> = async ({ params, conn, guard, limits, audit, countBytes }) => {
  const dir = await guard.follow(params.path);
  const entries = await walk(conn, dir, limits.maxZipBytes).catch((err: unknown) => {
    throw sftpFailure(err, `list ${dir}`);
  });
  await audit('file.download_zip', {
    path: dir,
    files: entries.filter((e) => e.type === 'file').length,
    bytes: entries.reduce((sum, e) => sum + e.size, 0),
  });

  const archive = new yazl.ZipFile();
  const out = new PassThrough();
  let reading: SftpReader | undefined;
  for (const entry of entries) {
    const options = { mtime: entry.mtime, mode: entry.mode };
    if (entry.type === 'dir') {
      archive.addEmptyDirectory(entry.name, options);
      continue;
    }
    archive.addReadStreamLazy(entry.name, { ...options, size: entry.size }, (cb) => {
      openFile(conn, entry.path, 'r').then(
        (handle) => cb(null, (reading = new SftpReader(conn, handle, entry.size, countBytes))),
        (err: unknown) => cb(sftpFailure(err, `read ${entry.path}`), undefined as never),
      );
    });
  }
  archive.end();
  // yazl reports a failed entry on the ZipFile, not its output: pass it on so the response is cut.
  archive.on('error', (err: Error) => out.destroy(err));
  archive.outputStream.pipe(out);
  // A browser that goes away mid-ZIP: stop reading, and close the file being read.
  out.on('close', () => {
    archive.outputStream.unpipe(out);
    reading?.destroy();
  });
  return {
    kind: 'stream',
    stream: out,
    type: 'application/zip',
    filename: `${baseName(dir) === '/' ? 'root' : baseName(dir)}.zip`,
    inline: false,
  };
};
