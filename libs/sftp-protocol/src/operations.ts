import { z } from 'zod';

/**
 * The file operations, their parameters and whether they change anything. The gateway
 * validates a browser's request against these schemas and forwards the parsed values as a
 * query string; the sftp-worker parses that query with the same schemas. Parameters travel in
 * the query, not a body, so the gateway's signature covers them all.
 */

// Query strings carry booleans and numbers as text; JSON bodies carry them as themselves.
const flag = z
  .preprocess(
    (v) => (typeof v === 'boolean' ? String(v) : v),
    z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }),
  )
  .transform((v) => v === 'true' || v === '1');

const count = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` });

/**
 * A path on the target as the user typed or clicked it. Only its shape is checked here; what
 * it may reach (no "..", no NUL, inside the allowed roots after symlinks are resolved) is
 * decided by the sftp-worker against the canonical path, and refusals are audited there.
 */
export const remotePath = z
  .string({ error: 'must be a path' })
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters');

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest');

export const fileOperations = {
  /** A directory's entries, sorted and paged; `path` defaults to the first root or home. */
  list: {
    method: 'GET',
    mutating: false,
    transfer: false,
    params: z.object({
      path: remotePath.optional(),
      offset: count(0, 10_000_000).default(0),
      limit: count(1, 1000).default(200),
      sort: z.enum(['name', 'size', 'mtime']).default('name'),
      order: z.enum(['asc', 'desc']).default('asc'),
      hidden: flag.default(false),
    }),
  },
  stat: { method: 'GET', mutating: false, transfer: false, params: z.object({ path: remotePath }) },
  /** A file's bytes; `inline` asks for a preview (images and PDFs only). */
  download: {
    method: 'GET',
    mutating: false,
    transfer: true,
    params: z.object({ path: remotePath, inline: flag.default(false) }),
  },
  /** A directory as a ZIP, built while it is sent. */
  zip: { method: 'GET', mutating: false, transfer: true, params: z.object({ path: remotePath }) },
  /** A text file for the editor, with the hash a later save must match. */
  text: { method: 'GET', mutating: false, transfer: false, params: z.object({ path: remotePath }) },
  /**
   * The request body becomes the file, written under a temporary name and renamed into place
   * once complete. `ifMatch` (the editor's hash) refuses the save if the file changed meanwhile.
   */
  upload: {
    method: 'PUT',
    mutating: true,
    transfer: true,
    params: z.object({
      path: remotePath,
      overwrite: flag.default(false),
      ifMatch: sha256.optional(),
    }),
  },
  mkdir: {
    method: 'POST',
    mutating: true,
    transfer: false,
    params: z.object({ path: remotePath }),
  },
  /** Rename or move. */
  rename: {
    method: 'POST',
    mutating: true,
    transfer: false,
    params: z.object({ from: remotePath, to: remotePath, overwrite: flag.default(false) }),
  },
  delete: {
    method: 'POST',
    mutating: true,
    transfer: false,
    params: z.object({ path: remotePath, recursive: flag.default(false) }),
  },
  chmod: {
    method: 'POST',
    mutating: true,
    transfer: false,
    params: z.object({
      path: remotePath,
      mode: z.string().regex(/^[0-7]{3,4}$/, 'must be an octal mode such as 644 or 0755'),
    }),
  },
} as const;

export type FileOperation = keyof typeof fileOperations;
export type FileParams<Op extends FileOperation> = z.infer<(typeof fileOperations)[Op]['params']>;

export const isFileOperation = (name: string): name is FileOperation =>
  Object.prototype.hasOwnProperty.call(fileOperations, name);

/** Parsed parameters as a query string, the form in which the worker receives them. */
export function toQuery(params: Record<string, string | number | boolean | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) query.set(key, String(value));
  }
  return query.toString();
}

/** The worker's path for an operation on a server, as the gateway signs and sends it. */
export const workerPath = (serverId: string, op: FileOperation, query: string): string =>
  `/v1/servers/${encodeURIComponent(serverId)}/files/${op}${query ? `?${query}` : ''}`;
