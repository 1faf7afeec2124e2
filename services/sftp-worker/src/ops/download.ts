import { AppError } from '@sallyport/errors';
import { sftpFailure } from '../errors.js';
import { SftpReader, closeHandle } from '../streams.js';
import { openFile, stat, typeOf } from './entries.js';
import type { Operation } from './context.js';

// Only these are shown in the browser; everything else (HTML and SVG above all, which would
// run as our origin) is always a download.
const PREVIEW_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  pdf: 'application/pdf',
};

export const previewType = (name: string): string | undefined =>
  PREVIEW_TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()];

export const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1) || '/';

/** A file's bytes, streamed from the target as the browser takes them. */
export const download: Operation<'download'> = async ({
  params,
  conn,
  guard,
  audit,
  countBytes,
}) => {
  const path = await guard.follow(params.path);
  const stats = await stat(conn, path).catch((err: unknown) => {
    throw sftpFailure(err, `read ${path}`);
  });
  if (typeOf(stats.mode) === 'dir')
    throw new AppError('conflict', `${path} is a folder; download it as a ZIP`);
  if (typeOf(stats.mode) !== 'file')
    throw new AppError('conflict', `${path} is not a regular file`);
  const handle = await openFile(conn, path, 'r').catch((err: unknown) => {
    throw sftpFailure(err, `open ${path}`);
  });
  await audit('file.download', { path, bytes: stats.size }).catch((err: unknown) => {
    closeHandle(conn, handle);
    throw err;
  });
  const name = baseName(path);
  const preview = params.inline ? previewType(name) : undefined;
  return {
    kind: 'stream',
    stream: new SftpReader(conn, handle, stats.size, countBytes),
    type: preview ?? 'application/octet-stream',
    length: stats.size,
    filename: name,
    inline: preview !== undefined,
    lastModified: new Date(stats.mtime * 1000),
  };
};
