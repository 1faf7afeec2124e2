// The gateway's JSON API as the UI uses it. The login cookie is HttpOnly and same-site, so
// requests just carry same-origin credentials; no token is ever held in script.

export interface User {
  id: string;
  username: string;
  displayName: string | null;
  role: string;
}

export type AuthType = 'password' | 'key';

export interface Server {
  id: string;
  name: string;
  host: string;
  port: number;
  username: string;
  authType: AuthType;
  hasPassphrase: boolean;
  group: string | null;
  tags: string[];
  sftpEnabled: boolean;
  sftpReadOnly: boolean;
  sftpRoots: string[];
  createdAt: string;
  updatedAt: string;
}

export type ServerAuth =
  { type: 'password'; password: string } | { type: 'key'; privateKey: string; passphrase?: string };

export interface ServerInput {
  name?: string;
  host?: string;
  port?: number;
  username?: string;
  auth?: ServerAuth;
  group?: string | null;
  tags?: string[];
  sftpEnabled?: boolean;
  sftpReadOnly?: boolean;
  sftpRoots?: string[];
}

export type ConnectionTestResult =
  | { ok: true; hostKeyFingerprint: string; hostKeyPinned: boolean; message: string }
  | { ok: false; reason: string; message: string };

/** A host key the gateway has pinned for a host and port, as known_hosts holds one. */
export interface PinnedHostKey {
  keyType: string;
  /** "SHA256:..." as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** OpenSSH one-line form, "ssh-ed25519 AAAA...". */
  publicKey: string;
  pinnedAt: string;
}

/**
 * A server's pinned host key. Keys are pinned per host and port, so every server entry for the
 * same address shares one.
 */
export interface HostKeyInfo {
  host: string;
  port: number;
  /** tofu: the first connection pins the key it sees; strict: unpinned hosts are refused. */
  policy: 'tofu' | 'strict';
  hostKey: PinnedHostKey | null;
}

export interface Recording {
  id: string;
  sessionId: string;
  userId: string;
  username: string;
  serverId: string | null;
  serverName: string;
  participants: string[];
  status: 'recording' | 'complete' | 'incomplete';
  mode: 'best_effort' | 'strict';
  recordsInput: boolean;
  cols: number;
  rows: number;
  startedAt: string;
  endedAt: string | null;
  durationMs: number;
  sizeBytes: number;
  gaps: number;
}

export interface SearchHit {
  time: number;
  context: string;
}

export interface RecordingPolicy {
  scope: string;
  enabled: boolean;
  mode: 'best_effort' | 'strict';
  recordInput: boolean;
}

export type Role = 'owner' | 'control' | 'view';
export type ShareMode = 'view' | 'control';

export interface SessionSummary {
  id: string;
  userId: string;
  serverId: string | null;
  serverName: string | null;
  status: 'pending' | 'active' | 'ended';
  createdAt: string;
  connectedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  endMessage: string | null;
}

export interface Share {
  id: string;
  sessionId: string;
  mode: ShareMode;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
  createdAt: string;
}

export interface Invite {
  id: string;
  sessionId: string;
  mode: ShareMode;
  /** The inviting user's username. */
  from: string;
  serverName: string | null;
  createdAt: string;
}

/** Where a redeemed link or an accepted invitation leads. */
export interface SessionEntry {
  sessionId: string;
  role: Role;
}

export type UserRole = 'user' | 'admin' | 'auditor';

export interface NewUser {
  username: string;
  password: string;
  role: UserRole;
  displayName?: string;
}

/** An error answer from the API (`{ error: { code, message, details } }`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The request field the error is about, for validation errors. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers:
        body === undefined
          ? { Accept: 'application/json' }
          : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      'cannot reach the gateway; check your connection and try again',
    );
  }
  if (response.status === 204) return undefined as T;
  const payload: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw toApiError(response, payload);
  return payload as T;
}

export function toApiError(
  response: { status: number; statusText: string },
  payload: unknown,
): ApiError {
  const error = (
    payload as
      { error?: { code?: unknown; message?: unknown; details?: { field?: unknown } } } | undefined
  )?.error;
  const code = typeof error?.code === 'string' ? error.code : 'http_' + response.status;
  const message =
    typeof error?.message === 'string'
      ? error.message
      : `the gateway answered ${response.status} ${response.statusText}`.trim();
  const field = typeof error?.details?.field === 'string' ? error.details.field : undefined;
  return new ApiError(response.status, code, message, field);
}

export const api = {
  setupNeeded: () => request<{ needed: boolean }>('GET', '/api/setup').then((r) => r.needed),
  setup: (token: string, username: string, password: string) =>
    request<{ user: User }>('POST', '/api/setup', { token, username, password }).then(
      (r) => r.user,
    ),
  login: (username: string, password: string) =>
    request<{ user: User }>('POST', '/api/auth/login', { username, password }).then((r) => r.user),
  logout: () => request<void>('POST', '/api/auth/logout'),
  /** The signed-in user, or null when there is no live login session. */
  me: () =>
    request<{ user: User }>('GET', '/api/auth/me').then(
      (r) => r.user,
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      },
    ),
  listServers: () => request<{ servers: Server[] }>('GET', '/api/servers').then((r) => r.servers),
  getServer: (id: string) =>
    request<{ server: Server }>('GET', `/api/servers/${encodeURIComponent(id)}`).then(
      (r) => r.server,
    ),
  createServer: (input: ServerInput) =>
    request<{ server: Server }>('POST', '/api/servers', input).then((r) => r.server),
  updateServer: (id: string, input: ServerInput) =>
    request<{ server: Server }>('PUT', `/api/servers/${encodeURIComponent(id)}`, input).then(
      (r) => r.server,
    ),
  deleteServer: (id: string) => request<void>('DELETE', `/api/servers/${encodeURIComponent(id)}`),
  listRecordings: (filters: Record<string, string>) =>
    request<{ recordings: Recording[] }>(
      'GET',
      `/api/recordings?${new URLSearchParams(filters).toString()}`,
    ).then((r) => r.recordings),
  getRecording: (id: string) =>
    request<{ recording: Recording }>('GET', `/api/recordings/${encodeURIComponent(id)}`).then(
      (r) => r.recording,
    ),
  /** The recording's asciicast text (an audited playback). */
  castOf: async (id: string): Promise<string> => {
    const response = await fetch(`/api/recordings/${encodeURIComponent(id)}/cast`, {
      credentials: 'same-origin',
    });
    if (!response.ok) throw toApiError(response, await response.json().catch(() => undefined));
    return response.text();
  },
  searchRecording: (id: string, q: string) =>
    request<{ hits: SearchHit[] }>(
      'GET',
      `/api/recordings/${encodeURIComponent(id)}/search?q=${encodeURIComponent(q)}`,
    ).then((r) => r.hits),
  listPolicies: () =>
    request<{ policies: RecordingPolicy[] }>('GET', '/api/recording-policies').then(
      (r) => r.policies,
    ),
  /** `path` is "global", "groups/<name>" or "servers/<id>". */
  setPolicy: (path: string, policy: Omit<RecordingPolicy, 'scope'>) =>
    request<{ policy: RecordingPolicy }>('PUT', `/api/recording-policies/${path}`, policy),
  deletePolicy: (path: string) => request<void>('DELETE', `/api/recording-policies/${path}`),
  testServer: (id: string) =>
    request<ConnectionTestResult>('POST', `/api/servers/${encodeURIComponent(id)}/test`),
  serverHostKey: (id: string) =>
    request<HostKeyInfo>('GET', `/api/servers/${encodeURIComponent(id)}/host-key`),
  /** Pins `publicKey` (a .pub line or a line of ssh-keyscan output), replacing any pinned key. */
  pinServerHostKey: (id: string, publicKey: string) =>
    request<{ hostKey: PinnedHostKey }>('PUT', `/api/servers/${encodeURIComponent(id)}/host-key`, {
      publicKey,
    }).then((r) => r.hostKey),
  /** Unpins the key (404 when none is pinned); under tofu the next connection pins anew. */
  forgetServerHostKey: (id: string) =>
    request<void>('DELETE', `/api/servers/${encodeURIComponent(id)}/host-key`),
  /** Your live sessions (an admin's list holds everyone's). */
  activeSessions: () =>
    request<{ sessions: SessionSummary[] }>('GET', '/api/sessions?status=active').then(
      (r) => r.sessions,
    ),
  getSession: (id: string) =>
    request<{ session: SessionSummary }>('GET', `/api/sessions/${encodeURIComponent(id)}`).then(
      (r) => r.session,
    ),
  /** Ends a session (202: the worker closes it shortly). */
  endSession: (id: string) => request<void>('DELETE', `/api/sessions/${encodeURIComponent(id)}`),
  createShare: (
    sessionId: string,
    input: { mode: ShareMode; expiresInMinutes: number; maxUses?: number },
  ) =>
    request<{ share: Share; url: string }>(
      'POST',
      `/api/sessions/${encodeURIComponent(sessionId)}/shares`,
      input,
    ),
  listShares: (sessionId: string) =>
    request<{ shares: Share[] }>(
      'GET',
      `/api/sessions/${encodeURIComponent(sessionId)}/shares`,
    ).then((r) => r.shares),
  revokeShare: (id: string) => request<void>('DELETE', `/api/shares/${encodeURIComponent(id)}`),
  redeemShare: (token: string) => request<SessionEntry>('POST', '/api/shares/redeem', { token }),
  invite: (sessionId: string, username: string, mode: ShareMode) =>
    request<unknown>('POST', `/api/sessions/${encodeURIComponent(sessionId)}/invites`, {
      username,
      mode,
    }),
  listInvites: () => request<{ invites: Invite[] }>('GET', '/api/invites').then((r) => r.invites),
  acceptInvite: (id: string) =>
    request<SessionEntry>('POST', `/api/invites/${encodeURIComponent(id)}/accept`),
  declineInvite: (id: string) =>
    request<unknown>('POST', `/api/invites/${encodeURIComponent(id)}/decline`),
  listUsers: () => request<{ users: User[] }>('GET', '/api/users').then((r) => r.users),
  createUser: (input: NewUser) =>
    request<{ user: User }>('POST', '/api/users', input).then((r) => r.user),
};

/** A readable message for any error a page catches. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
