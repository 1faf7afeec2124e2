import { posix } from 'node:path';

/**
 * The rules every path meets before it reaches the target, as pure functions. The decision is
 * always taken on the canonical path the target reports (symlinks resolved), compared with a
 * trailing separator, so a root of /data admits /data/x but neither /data2 nor a link to /etc.
 */

/** Why a requested path is refused outright, before the target is asked anything. */
export function refusedShape(requested: string): string | undefined {
  if (requested.includes('\0')) return 'the path contains a NUL character';
  if (!requested.startsWith('/')) return 'the path must be absolute';
  if (requested.split('/').includes('..')) return 'the path must not contain ".."';
  return undefined;
}

/** "/a//b/./c/" → "/a/b/c"; only for paths that passed `refusedShape`. */
export function normalise(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Whether `path` is `root` or inside it. Both must be canonical. */
export function isWithin(path: string, root: string): boolean {
  if (root === '/') return path.startsWith('/');
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** Inside at least one root; no roots means no confinement. */
export const withinRoots = (path: string, roots: readonly string[]): boolean =>
  roots.length === 0 || roots.some((root) => isWithin(path, root));

/** The parent of a canonical path, or undefined at "/". */
export const parentOf = (path: string): string | undefined =>
  path === '/' ? undefined : posix.dirname(path);

export const joinPath = (dir: string, name: string): string =>
  dir === '/' ? `/${name}` : `${dir}/${name}`;
