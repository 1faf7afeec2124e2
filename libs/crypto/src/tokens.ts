import { createHash, randomBytes } from 'node:crypto';

/** An unguessable token (256 bits) for cookies, setup links and share links. */
export const randomToken = (): string => randomBytes(32).toString('base64url');

/** Tokens are stored only as this hash, so a database leak does not leak live tokens. */
export const hashToken = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');
