// The HTTP API the bench assumes for a feature that had not landed when it was written: shared
// sessions (issue 3). Each probe asks the running gateway whether the route exists, so the
// scenarios measure as soon as the feature is there and report "not measured" until then. When a
// feature lands with a different shape, this file is the one place to adjust.
import type { ApiClient } from '../../tests/support/api.js';

/**
 * The gateway answers a route it does not have with 404 "no such endpoint" (or 405 for a path
 * it knows with another method); a 404 about a missing session or server is something else.
 */
function missing(res: { status: number; body: unknown }): boolean {
  if (res.status === 405) return true;
  const message = (res.body as { error?: { message?: string } } | undefined)?.error?.message;
  return res.status === 404 && (message ?? '').startsWith('no such endpoint');
}

// ---- shared sessions -------------------------------------------------------------------------
//
// Assumed shape:
//   POST /api/sessions/:id/shares  {mode: 'view'|'control', expiresInMinutes}
//        → 201 {share: {id, token}}
//   POST /api/shares/join          {token} → 200 {sessionId, mode}
//   WebSocket /api/terminal?sessionId=<id>   attaches to the session: a `snapshot` control
//        message, then live output as binary frames (the same socket protocol as the owner's).

export interface Share {
  id: string;
  token: string;
}

/** Creates a share of `sessionId`, or returns undefined when the gateway has no such API. */
export async function createShare(
  api: ApiClient,
  sessionId: string,
  mode: 'view' | 'control',
): Promise<Share | undefined> {
  const res = await api.request('POST', `/api/sessions/${sessionId}/shares`, {
    mode,
    expiresInMinutes: 60,
  });
  if (missing(res)) return undefined;
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`creating a share failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const share = (res.body as { share?: Share }).share;
  if (!share?.token) throw new Error(`share answer without a token: ${JSON.stringify(res.body)}`);
  return share;
}

/** Exchanges a share token for the query that attaches a joiner's terminal socket. */
export async function joinQuery(api: ApiClient, token: string): Promise<Record<string, string>> {
  const res = await api.request('POST', '/api/shares/join', { token });
  if (res.status !== 200) {
    throw new Error(`joining a share failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { sessionId: String((res.body as { sessionId: string }).sessionId) };
}
