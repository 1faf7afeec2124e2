// Shared sessions (issue 3) as a browser reaches them. The owner's Share dialog creates a link
// whose token travels in the URL fragment (/join#<token>, never sent to a server); the joiner,
// logged in as themselves, opens the link, the /join page redeems the token and then attaches
// the terminal to the session by id (services/gateway/ui/pages/share-dialog.ts and join.ts;
// tests/sharing.e2e.test.ts joins the same way).
import { ApiClient } from '../../tests/support/api.js';
import { runPool } from '../util.js';

export type ShareMode = 'view' | 'control';

/** The Share dialog's "Create link": the link the owner sends to the people who join. */
export async function createShareLink(
  owner: ApiClient,
  sessionId: string,
  mode: ShareMode,
): Promise<string> {
  const res = await owner.request('POST', `/api/sessions/${sessionId}/shares`, {
    mode,
    expiresInMinutes: 60,
  });
  if (res.status !== 201) {
    throw new Error(`creating a share link failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const url = (res.body as { url?: unknown }).url;
  if (typeof url !== 'string' || new URL(url).hash.length <= 1) {
    throw new Error(`share answer without a /join#<token> link: ${JSON.stringify(res.body)}`);
  }
  return url;
}

/**
 * The /join page of `joiner`'s gateway: takes the token out of the link's fragment and redeems
 * it; answers the query with which the terminal socket attaches to the shared session.
 */
export async function joinQuery(joiner: ApiClient, link: string): Promise<Record<string, string>> {
  const token = decodeURIComponent(new URL(link).hash.slice(1));
  const res = await joiner.request('POST', '/api/shares/redeem', { token });
  if (res.status !== 200) {
    throw new Error(`redeeming a share link failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { sessionId: String((res.body as { sessionId: string }).sessionId) };
}

const JOINER_PASSWORD = 'bench-joiner-password';

/**
 * `count` people to join as, each logged in at a gateway in turn. They are separate users: a
 * share redeemed by the session's own owner just reattaches the owner. Created on first use
 * (an existing one is only logged in), so later rounds on the same deployment reuse them.
 */
export async function joinerAccounts(
  admin: ApiClient,
  gatewayUrls: readonly string[],
  count: number,
): Promise<ApiClient[]> {
  return runPool(count, 4, async (i) => {
    const username = `bench-joiner-${i + 1}`;
    const created = await admin.request('POST', '/api/users', {
      username,
      password: JOINER_PASSWORD,
    });
    if (created.status !== 201 && created.status !== 409) {
      throw new Error(`creating ${username} failed: ${created.status}`);
    }
    const client = new ApiClient(gatewayUrls[i % gatewayUrls.length]!);
    await client.login(username, JOINER_PASSWORD);
    return client;
  });
}
