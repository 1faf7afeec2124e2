// What the file operations answer, as the browser receives them.

export type EntryType = 'file' | 'dir' | 'link' | 'other';

/** A directory entry as the Files view shows it. */
export interface Entry {
  name: string;
  type: EntryType;
  size: number;
  /** Permission bits (e.g. 0o644), and the same as `ls -l` shows them. */
  mode: number;
  permissions: string;
  owner: string;
  group: string;
  /** ISO 8601. */
  mtime: string;
  /** For a symlink: what it leads to, if that could be found out. */
  target?: 'file' | 'dir' | 'other' | 'broken';
}

/** One page of a directory (`list`), with its canonical path and the server's allowed roots. */
export interface Listing {
  path: string;
  /** The parent folder, when the user may go there. */
  parent: string | null;
  roots: string[];
  total: number;
  offset: number;
  limit: number;
  entries: Entry[];
}

/** A text file for the editor (`text`); a save must present `hash` as `ifMatch`. */
export interface TextFile {
  path: string;
  content: string;
  /** SHA-256 of the bytes, hex. */
  hash: string;
  size: number;
  mtime: string;
}
