import { isIP } from 'node:net';
import ssh2 from 'ssh2';
import { z } from 'zod';

// Anything that reaches an SSH option or a log line is checked here first. A leading "-" could
// be read as an option by tools downstream; control characters could forge log lines.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;
const USERNAME = /^[A-Za-z0-9_.][A-Za-z0-9_.@-]*$/;

const safeText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters');

const host = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(253)
  .refine((s) => !s.startsWith('-'), 'must not begin with "-"')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters')
  .refine(
    (s) => isIP(s.replace(/^\[|\]$/g, '')) !== 0 || HOSTNAME.test(s),
    'must be a hostname or an IP address',
  )
  .transform((s) => s.replace(/^\[|\]$/g, ''));

const username = z
  .string()
  .min(1, 'must not be empty')
  .max(64)
  .refine((s) => !s.startsWith('-'), 'must not begin with "-"')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters')
  .refine((s) => USERNAME.test(s), 'may contain letters, digits, ".", "_", "@" and "-" only');

const secretText = (max: number) => z.string().min(1, 'must not be empty').max(max);

const auth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('password'), password: secretText(1024) }).strict(),
  z
    .object({
      type: z.literal('key'),
      privateKey: secretText(16_384),
      passphrase: z.string().max(1024).optional(),
    })
    .strict()
    .superRefine((value, ctx) => {
      const parsed = ssh2.utils.parseKey(value.privateKey, value.passphrase);
      if (parsed instanceof Error) {
        const wantsPassphrase = /passphrase|encrypted/i.test(parsed.message);
        ctx.addIssue({
          code: 'custom',
          path: [wantsPassphrase ? 'passphrase' : 'privateKey'],
          message: wantsPassphrase
            ? 'is missing or wrong for this private key'
            : 'is not a private key ssh can use',
        });
      }
    }),
]);

// An allowed SFTP root: absolute, no "." or ".." segments, kept without a trailing "/" (the
// sftp-worker compares canonical paths with a separator appended).
const sftpRoot = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters')
  .refine((s) => s.startsWith('/'), 'must be an absolute path (starting with "/")')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters')
  .refine(
    (s) => !s.split('/').some((part) => part === '.' || part === '..'),
    'must not contain "." or ".." segments',
  )
  .transform((s) => s.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'));

const fields = {
  name: safeText(100),
  host,
  port: z.number().int().min(1).max(65535),
  username,
  auth,
  group: safeText(100).nullable().optional(),
  tags: z.array(safeText(50)).max(50),
  /** The Files view (SFTP) may be used for this server. */
  sftpEnabled: z.boolean(),
  /** Files may be read but not changed. */
  sftpReadOnly: z.boolean(),
  /** Paths SFTP users are confined to; empty, they see what the SSH user sees. */
  sftpRoots: z
    .array(sftpRoot)
    .max(20, 'at most 20 roots')
    .transform((roots) => [...new Set(roots)]),
};

export const createServerSchema = z
  .object({
    ...fields,
    port: fields.port.default(22),
    tags: fields.tags.default([]),
    sftpEnabled: fields.sftpEnabled.default(true),
    sftpReadOnly: fields.sftpReadOnly.default(false),
    sftpRoots: fields.sftpRoots.default([]),
  })
  .strict();
export type CreateServerInput = z.infer<typeof createServerSchema>;

/**
 * An update changes only what it names: no defaults here, so a field left out keeps its
 * value; omitting `auth` keeps the stored secret.
 */
export const updateServerSchema = z.object(fields).partial().strict();
export type UpdateServerInput = z.infer<typeof updateServerSchema>;
