import type { SftpConnection } from './connection.js';
import { PathDenied, sftpFailure } from './errors.js';
import { joinPath, normalise, parentOf, refusedShape, withinRoots } from './path-rules.js';

/**
 * Turns a requested path into the canonical path an operation may use, or refuses it.
 *
 * - `follow` (list, read, chmod): the path's own realpath, so a symlink is judged by where it
 *   leads.
 * - `entry` (create, rename, delete): the realpath of the parent plus the name, so a symlink is
 *   judged as the link itself, which is what these operations act on. An allowed root itself
 *   is never an entry (it cannot be deleted or renamed away).
 *
 * A check and the use that follows are separate SFTP requests; someone with a shell on the
 * target could swap a directory for a symlink in between. The rules keep honest users inside
 * their roots and refuse every crafted path; they are not a sandbox against the target's own
 * users.
 */
export class PathGuard {
  constructor(
    private readonly conn: SftpConnection,
    private readonly configuredRoots: readonly string[],
  ) {}

  /** The canonical roots (roots that do not exist on the target are left out). */
  roots(): Promise<string[]> {
    const key = `roots:${JSON.stringify(this.configuredRoots)}`;
    let roots = this.conn.memo.get(key) as Promise<string[]> | undefined;
    if (!roots) {
      roots = Promise.all(
        this.configuredRoots.map((root) => this.realpath(root).catch(() => undefined)),
      ).then((found) => found.filter((r): r is string => r !== undefined));
      this.conn.memo.set(key, roots);
    }
    return roots;
  }

  /** Where a listing starts when no path is given: the first root, else the login directory. */
  async home(): Promise<string> {
    const roots = await this.roots();
    if (roots[0] !== undefined) return roots[0];
    if (this.configuredRoots.length > 0)
      throw new PathDenied(this.configuredRoots.join(', '), 'none of the allowed roots exists');
    return this.realpath('.');
  }

  async follow(requested: string): Promise<string> {
    const path = this.checkShape(requested);
    const canonical = await this.realpath(path).catch((err: unknown) => {
      throw sftpFailure(err, `open ${path}`);
    });
    await this.checkRoots(requested, canonical);
    return canonical;
  }

  async entry(requested: string): Promise<string> {
    const path = this.checkShape(requested);
    const parent = parentOf(path);
    if (parent === undefined) throw new PathDenied(requested, 'the root folder cannot be changed');
    const canonicalParent = await this.realpath(parent).catch((err: unknown) => {
      throw sftpFailure(err, `open the folder ${parent}`);
    });
    const canonical = joinPath(
      canonicalParent,
      path.slice(parent.length + (parent === '/' ? 0 : 1)),
    );
    await this.checkRoots(requested, canonical);
    if ((await this.roots()).includes(canonical))
      throw new PathDenied(requested, 'an allowed root itself cannot be changed');
    return canonical;
  }

  /** Whether a canonical path is one the user may see (for a listing's parent link). */
  async allows(canonical: string): Promise<boolean> {
    if (this.configuredRoots.length === 0) return true;
    const roots = await this.roots();
    // Confined to roots none of which exists: nothing is allowed, not everything.
    return roots.length > 0 && withinRoots(canonical, roots);
  }

  private checkShape(requested: string): string {
    const refused = refusedShape(requested);
    if (refused) throw new PathDenied(requested, refused);
    return normalise(requested);
  }

  private async checkRoots(requested: string, canonical: string): Promise<void> {
    if (!(await this.allows(canonical)))
      throw new PathDenied(requested, 'the path is outside the allowed roots');
  }

  private realpath(path: string): Promise<string> {
    return this.conn.call<string>((sftp, done) => sftp.realpath(path, done));
  }
}
