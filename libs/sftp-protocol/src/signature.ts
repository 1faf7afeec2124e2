import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * The gateway's signed statement of who is asking, sent with every request it forwards to the
 * sftp-worker. The worker serves nothing without it: the HMAC covers the method, the path with
 * its query (which carries every file path and option), the identity and the time, so none of
 * them can be changed or replayed outside a short window.
 */
export interface InternalIdentity {
  userId: string;
  username: string;
  /** The browser's address as the gateway saw it, for the audit log. */
  ip: string;
  /** The gateway's request id, so one request can be followed across both logs. */
  reqId: string;
}

export const INTERNAL_HEADERS = {
  identity: 'x-sallyport-identity',
  timestamp: 'x-sallyport-timestamp',
  signature: 'x-sallyport-signature',
} as const;

/** How far a request's timestamp may be from the worker's clock. */
export const SIGNATURE_WINDOW_MS = 30_000;

const identitySchema = z
  .object({
    userId: z.string().min(1).max(64),
    username: z.string().min(1).max(200),
    ip: z.string().max(100),
    reqId: z.string().max(100),
  })
  .strict();

function mac(secret: string, method: string, path: string, identity: string, timestamp: string) {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}\n${path}\n${identity}\n${timestamp}`)
    .digest('base64url');
}

/** The headers that make a request to `path` (path and query, as sent) acceptable to the worker. */
export function signRequest(
  secret: string,
  request: { method: string; path: string; identity: InternalIdentity },
  now: number = Date.now(),
): Record<string, string> {
  const identity = Buffer.from(JSON.stringify(request.identity)).toString('base64url');
  const timestamp = String(now);
  return {
    [INTERNAL_HEADERS.identity]: identity,
    [INTERNAL_HEADERS.timestamp]: timestamp,
    [INTERNAL_HEADERS.signature]: mac(secret, request.method, request.path, identity, timestamp),
  };
}

export type VerifyResult = { ok: true; identity: InternalIdentity } | { ok: false; reason: string };

/** Checks a request's signature, its age, and the identity it carries. */
export function verifyRequest(
  secret: string,
  request: { method: string; path: string; header: (name: string) => string | undefined },
  now: number = Date.now(),
): VerifyResult {
  const identity = request.header(INTERNAL_HEADERS.identity);
  const timestamp = request.header(INTERNAL_HEADERS.timestamp);
  const signature = request.header(INTERNAL_HEADERS.signature);
  if (!identity || !timestamp || !signature)
    return { ok: false, reason: 'the request is not signed' };
  const expected = Buffer.from(mac(secret, request.method, request.path, identity, timestamp));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'the request signature is not valid' };
  const at = Number(timestamp);
  if (!Number.isSafeInteger(at) || Math.abs(now - at) > SIGNATURE_WINDOW_MS)
    return { ok: false, reason: 'the request signature has expired' };
  try {
    const parsed = identitySchema.safeParse(
      JSON.parse(Buffer.from(identity, 'base64url').toString('utf8')),
    );
    if (parsed.success) return { ok: true, identity: parsed.data };
  } catch {
    // fall through: a signed but unreadable identity is a bug on the gateway's side
  }
  return { ok: false, reason: 'the signed identity is not readable' };
}
