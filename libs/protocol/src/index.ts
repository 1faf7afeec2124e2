import { z } from 'zod';

/**
 * The browser ⇄ gateway terminal protocol. One WebSocket per terminal: binary frames carry raw
 * terminal bytes both ways, text frames carry the JSON control messages defined here.
 */

/** Largest frame a gateway accepts; a bigger one closes the socket with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;

export const TERMINAL_LIMITS = { minCols: 1, maxCols: 1000, minRows: 1, maxRows: 500 } as const;

const cols = z.number().int().min(TERMINAL_LIMITS.minCols).max(TERMINAL_LIMITS.maxCols);
const rows = z.number().int().min(TERMINAL_LIMITS.minRows).max(TERMINAL_LIMITS.maxRows);

const userId = z.uuid();

/** Text frames a client may send. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('resize'), cols, rows }).strict(),
  /** The owner ends the session (the shell is closed). */
  z.object({ type: z.literal('close') }).strict(),
  /** Terminal bytes rendered so far on this socket (snapshots included), for flow control. */
  z
    .object({ type: z.literal('ack'), bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
    .strict(),
  /** A viewer asks the owner for control. */
  z.object({ type: z.literal('control-request') }).strict(),
  /** The owner grants, denies or takes back control. */
  z.object({ type: z.literal('control-grant'), userId }).strict(),
  z.object({ type: z.literal('control-deny'), userId }).strict(),
  z.object({ type: z.literal('control-revoke'), userId }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Terminal size as given when opening (query string) or resizing. */
export const terminalSizeSchema = z.object({ cols, rows });

export type Role = 'owner' | 'control' | 'view';

export interface Participant {
  userId: string;
  username: string;
  role: Role;
  /** Open sockets of this user on the session; 0 when detached. */
  attachments: number;
}

export type EndReason =
  | 'exit'
  | 'closed'
  | 'idle_timeout'
  | 'worker_lost'
  | 'worker_shutdown'
  | 'connect_failed'
  | 'auth_failed'
  | 'host_key_mismatch'
  | 'target_denied'
  | 'timeout'
  /** A strict recording policy: the session's output could not be kept. */
  | 'recording_failed'
  | 'error';

/** Text frames the gateway sends. */
export type ServerMessage =
  /** This socket is on session `id`, as `role`; `attached` when it joined a running session. */
  | {
      type: 'session';
      id: string;
      serverId: string | null;
      serverName: string;
      userId: string;
      role: Role;
      attached: boolean;
    }
  /** The shell is open. */
  | { type: 'ready'; hostKeyFingerprint: string; hostKeyPinned: boolean }
  /** The exact screen now (reset the terminal to this size, then write `data`); live output follows. */
  | { type: 'snapshot'; cols: number; rows: number; data: string }
  /** The session's terminal size changed. */
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'participants'; participants: Participant[] }
  /** (to the owner) a viewer asks for control. */
  | { type: 'control-request'; userId: string; username: string }
  /** Your role changed (control granted or taken back). */
  | { type: 'role'; role: Role }
  /** (to a viewer who asked) the owner said no. */
  | { type: 'control-denied' }
  /**
   * The session is over for this socket; it closes after this. `removed`: this participant's
   * access was revoked while the session goes on. `refused`: the session was never opened (its
   * server is gone, or a session limit was reached); the message says which.
   */
  | {
      type: 'exit';
      reason: EndReason | 'removed' | 'refused';
      message: string;
      code: number | null;
      signal: string | null;
    }
  /** A request from this client was refused; the session goes on. */
  | { type: 'error'; code: ProtocolErrorCode; message: string };

export type ProtocolErrorCode = 'bad_message' | 'invalid_resize' | 'forbidden' | 'not_ready';

export type ParseResult =
  { ok: true; message: ClientMessage } | { ok: false; code: ProtocolErrorCode; message: string };

/** Validates a text frame; the error says what was wrong without echoing the frame back. */
export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'bad_message', message: 'control message is not valid JSON' };
  }
  const parsed = clientMessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const isResize =
    typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'resize';
  if (isResize) {
    return {
      ok: false,
      code: 'invalid_resize',
      message: `terminal size must be ${TERMINAL_LIMITS.minCols}-${TERMINAL_LIMITS.maxCols} columns and ${TERMINAL_LIMITS.minRows}-${TERMINAL_LIMITS.maxRows} rows`,
    };
  }
  return {
    ok: false,
    code: 'bad_message',
    message: `unknown or malformed control message: ${z.prettifyError(parsed.error).split('\n')[0]}`,
  };
}
