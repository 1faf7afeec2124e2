import type { Entry, EntryType } from '@sallyport/sftp-protocol';
import type { FileEntryWithStats, Stats } from 'ssh2';
import type { SftpConnection } from '../connection.js';
import { isSftpStatus, sftpFailure } from '../errors.js';

const S_IFMT = 0o170000;
const TYPES: Record<number, EntryType> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'link' };

export const typeOf = (mode: number): EntryType => TYPES[mode & S_IFMT] ?? 'other';

const LETTERS: Record<EntryType, string> = { file: '-', dir: 'd', link: 'l', other: '?' };

/** "drwxr-xr-x" from a mode, setuid/setgid/sticky included. */
export function permissionString(mode: number): string {
  const bit = (mask: number, c: string) => (mode & mask ? c : '-');
  const special = (exec: number, flag: number, on: string, off: string) =>
    mode & flag ? (mode & exec ? on : off) : bit(exec, 'x');
  return (
    LETTERS[typeOf(mode)] +
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    special(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    special(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    special(0o001, 0o1000, 't', 'T')
  );
}

/**
 * An entry from READDIR. Owner and group names come from the `ls -l`-style long name OpenSSH
 * sends (SFTP v3 attributes carry only numeric ids); other servers fall back to the ids.
 */
export function toEntry(file: FileEntryWithStats): Entry {
  const { attrs } = file;
  const fields = file.longname.split(/\s+/);
  const named = fields.length >= 9 && /^[-dlcbps?][-rwxsStT]{9}/.test(fields[0] ?? '');
  return {
    name: file.filename,
    type: typeOf(attrs.mode),
    size: attrs.size,
    mode: attrs.mode & 0o7777,
    permissions: permissionString(attrs.mode),
    owner: named ? fields[2]! : String(attrs.uid),
    group: named ? fields[3]! : String(attrs.gid),
    mtime: new Date(attrs.mtime * 1000).toISOString(),
  };
}

export const readdir = (conn: SftpConnection, dir: string): Promise<FileEntryWithStats[]> =>
  conn
    .call<FileEntryWithStats[]>((sftp, done) => sftp.readdir(dir, done))
    .catch((err: unknown) => {
      throw sftpFailure(err, `list ${dir}`);
    });

export const stat = (conn: SftpConnection, path: string): Promise<Stats> =>
  conn.call<Stats>((sftp, done) => sftp.stat(path, done));

export const lstat = (conn: SftpConnection, path: string): Promise<Stats> =>
  conn.call<Stats>((sftp, done) => sftp.lstat(path, done));

/** lstat, or undefined when nothing is there. */
export const lstatIfExists = (conn: SftpConnection, path: string): Promise<Stats | undefined> =>
  lstat(conn, path).catch((err: unknown) => {
    if (isSftpStatus(err, 'noSuchFile')) return undefined;
    throw err;
  });

export const openFile = (
  conn: SftpConnection,
  path: string,
  flags: 'r' | 'wx',
  mode?: number,
): Promise<Buffer> =>
  conn.call<Buffer>((sftp, done) =>
    sftp.open(path, flags, mode === undefined ? {} : { mode }, done),
  );
