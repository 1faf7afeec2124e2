/**
 * What travels on the bus about a terminal session, and its byte encoding.
 *
 * Terminal bytes (output and input) are the hot path, so they are framed in binary with a
 * one-byte tag; everything else is rare and goes as JSON after its own tag.
 */

/** Why a session ended. Stable strings: stored in the session row and shown to clients. */
export type EndReason =
  | 'exit' // the remote shell exited
  | 'closed' // the owner closed it
  | 'worker_lost' // the owning worker's lease lapsed
  | 'worker_shutdown' // the worker was stopped (SIGTERM)
  | 'connect_failed' // the target could not be reached
  | 'auth_failed' // the target refused our credentials
  | 'host_key_mismatch' // the target's host key differs from the pinned one
  | 'target_denied' // the target address is denied by policy
  | 'timeout' // no worker took the request in time, or the target did not answer
  | 'error'; // anything else; the message says what

/** A request to open a shell (or only test the connection) on a server. */
export interface OpenRequest {
  sessionId: string;
  kind: 'shell' | 'test';
  userId: string;
  serverId: string;
  cols: number;
  rows: number;
  /** Epoch ms after which the gateway has given up; a worker drops it unprocessed. */
  deadline: number;
}

/** Worker → everyone watching a session. */
export type SessionMessage =
  | { type: 'output'; seq: number; data: Buffer }
  | { type: 'accepted'; workerId: string }
  | { type: 'ready'; hostKeyFingerprint: string; hostKeyPinned: boolean }
  | {
      type: 'ended';
      reason: EndReason;
      message: string;
      exitCode: number | null;
      exitSignal: string | null;
    };

/** Gateway → the owning worker. `userId` is who sent it: the worker checks it too. */
export type InputMessage =
  | { type: 'input'; userId: string; data: Buffer }
  | { type: 'resize'; userId: string; cols: number; rows: number }
  | { type: 'close'; userId: string };

const TAG_OUTPUT = 1;
const TAG_INPUT = 2;
const TAG_JSON = 3;

export function encodeSessionMessage(msg: SessionMessage): Buffer {
  if (msg.type === 'output') {
    const header = Buffer.allocUnsafe(9);
    header.writeUInt8(TAG_OUTPUT, 0);
    header.writeDoubleBE(msg.seq, 1);
    return Buffer.concat([header, msg.data]);
  }
  return encodeJson(msg);
}

export function decodeSessionMessage(buf: Buffer): SessionMessage {
  if (buf[0] === TAG_OUTPUT) {
    return { type: 'output', seq: buf.readDoubleBE(1), data: buf.subarray(9) };
  }
  return decodeJson(buf) as SessionMessage;
}

export function encodeInputMessage(msg: InputMessage): Buffer {
  if (msg.type === 'input') {
    const user = Buffer.from(msg.userId, 'utf8');
    const header = Buffer.allocUnsafe(2);
    header.writeUInt8(TAG_INPUT, 0);
    header.writeUInt8(user.length, 1);
    return Buffer.concat([header, user, msg.data]);
  }
  return encodeJson(msg);
}

export function decodeInputMessage(buf: Buffer): InputMessage {
  if (buf[0] === TAG_INPUT) {
    const userLength = buf.readUInt8(1);
    return {
      type: 'input',
      userId: buf.toString('utf8', 2, 2 + userLength),
      data: buf.subarray(2 + userLength),
    };
  }
  return decodeJson(buf) as InputMessage;
}

export function encodeOpenRequest(req: OpenRequest): Buffer {
  return Buffer.from(JSON.stringify(req), 'utf8');
}

export function decodeOpenRequest(buf: Buffer): OpenRequest {
  return JSON.parse(buf.toString('utf8')) as OpenRequest;
}

function encodeJson(value: unknown): Buffer {
  return Buffer.concat([Buffer.from([TAG_JSON]), Buffer.from(JSON.stringify(value), 'utf8')]);
}

function decodeJson(buf: Buffer): unknown {
  if (buf[0] !== TAG_JSON) throw new Error(`unknown bus message tag ${buf[0]}`);
  return JSON.parse(buf.toString('utf8', 1));
}
