/**
 * What travels on the bus about a terminal session, and its byte encoding.
 *
 * Terminal bytes (output and input) are the hot path, so they are framed in binary with a
 * one-byte tag; everything else is rare and goes as JSON after its own tag.
 */

// Why sessions end, who may do what, and who is watching are the same words for the browser
// and on the bus: one definition, in the protocol.
import type { EndReason, Participant, Role } from '@sallyport/protocol';

export type { EndReason, Participant, Role };

/** A request to open a shell (or only test the connection) on a server. */
export interface OpenRequest {
  sessionId: string;
  kind: 'shell' | 'test';
  userId: string;
  /** Shown to other participants. */
  username: string;
  serverId: string;
  cols: number;
  rows: number;
  /** The opener's attachment: it receives output from the first byte, without a snapshot. */
  attachId: string;
  /** Where the opener connected from, as the gateway saw it: for the audit log. */
  clientIp: string;
  /** Epoch ms after which the gateway has given up; a worker drops it unprocessed. */
  deadline: number;
  /**
   * The gateway asked before deciding whether the session may open (its row, its limits), so
   * that the worker connects meanwhile: the worker logs in to the target, and writes anything
   * about the session, only once `SessionBus.admit` has admitted it. Absent: admitted already.
   */
  awaitsAdmission?: boolean;
}

/** Worker → everyone watching a session. `seq` orders output and resizes in one stream. */
export type SessionMessage =
  /** Terminal bytes. `offset` is the stream's byte count before them, for acknowledgements. */
  | { type: 'output'; seq: number; offset: number; data: Buffer }
  /** The terminal size changed at this point of the stream. */
  | { type: 'resize'; seq: number; cols: number; rows: number }
  /** The screen as of `seq` (everything up to and including it), for one attachment. */
  | {
      type: 'snapshot';
      attachId: string;
      seq: number;
      offset: number;
      cols: number;
      rows: number;
      data: string;
    }
  | { type: 'accepted'; workerId: string }
  | { type: 'ready'; hostKeyFingerprint: string; hostKeyPinned: boolean }
  | { type: 'participants'; participants: Participant[] }
  /** A viewer asks the owner for control. */
  | { type: 'control-request'; userId: string; username: string }
  /** The owner answered a request; `granted` false is a denial or a take-back. */
  | { type: 'control-answer'; userId: string; granted: boolean }
  /** These attachments must close (their share was revoked, or they were removed). */
  | { type: 'kick'; attachIds: string[]; message: string }
  | {
      type: 'ended';
      reason: EndReason;
      message: string;
      exitCode: number | null;
      exitSignal: string | null;
    };

/**
 * Gateway → the owning worker. `userId` is who sent it: the worker checks the user's role
 * again, so a message put on the bus directly cannot type into someone else's session.
 */
export type InputMessage =
  | { type: 'input'; userId: string; data: Buffer }
  | { type: 'resize'; userId: string; cols: number; rows: number }
  | { type: 'close'; userId: string }
  /** A socket attaches; the worker answers with a snapshot for `attachId`. */
  | { type: 'attach'; attachId: string; userId: string; username: string; role: Role; via: string }
  | { type: 'detach'; attachId: string }
  /** The gateway still holds these sockets; attachments not heard of for a while are dropped. */
  | { type: 'heartbeat'; attachIds: string[] }
  /** The browser behind `attachId` has rendered the stream up to `offset`. */
  | { type: 'ack'; attachId: string; offset: number }
  /** A viewer fell too far behind and was cut off; it wants a fresh snapshot. */
  | { type: 'resync'; attachId: string }
  | {
      type: 'control';
      userId: string;
      action: 'request' | 'grant' | 'deny' | 'revoke';
      target?: string;
    }
  /** Everyone who joined through `via` (e.g. "share:<id>") loses access now. */
  | { type: 'revoke'; via: string; message: string }
  /** From the recorder: the session's output cannot be kept (a strict policy ends the session). */
  | { type: 'recording-failed'; message: string }
  /** The opening gateway's verdict on a session that awaits it (`SessionBus.admit`). */
  | { type: 'admission'; admitted: boolean };

/** best_effort: a failing store leaves a gap; strict: the session ends instead. */
export type RecordingMode = 'best_effort' | 'strict';

/** Worker → recorders: record this session. Everything the recording's header and row need. */
export interface RecordingRequest {
  sessionId: string;
  userId: string;
  username: string;
  serverId: string;
  serverName: string;
  cols: number;
  rows: number;
  /** Epoch ms: time zero of the recording. */
  startedAt: number;
  mode: RecordingMode;
  recordInput: boolean;
}

/**
 * Worker → the session's record stream, in order. `seq` is the session stream's (output and
 * resizes share it), so a reader sees a gap; `at` is the worker's clock (epoch ms), so timing
 * survives a recorder that reads late.
 */
export type RecordEvent =
  | { type: 'output'; seq: number; at: number; data: Buffer }
  | { type: 'resize'; seq: number; at: number; cols: number; rows: number }
  /** Keystrokes, with who typed them (only when the policy records input). */
  | { type: 'input'; at: number; userId: string; username: string; data: Buffer }
  | { type: 'end'; at: number; reason: EndReason; message: string };

const TAG_OUTPUT = 1;
const TAG_INPUT = 2;
const TAG_JSON = 3;
const OUTPUT_HEADER_BYTES = 17; // tag, seq, offset
const RECORD_OUTPUT_HEADER_BYTES = 17; // tag, seq, at

export function encodeSessionMessage(msg: SessionMessage): Buffer {
  if (msg.type === 'output') return encodeOutput(msg.seq, msg.offset, [msg.data]);
  return encodeJson(msg);
}

/** An output message whose bytes are `chunks` joined: one copy, straight into the message. */
export function encodeOutput(seq: number, offset: number, chunks: readonly Buffer[]): Buffer {
  const length = chunks.reduce((sum, c) => sum + c.length, OUTPUT_HEADER_BYTES);
  const message = Buffer.allocUnsafe(length);
  message.writeUInt8(TAG_OUTPUT, 0);
  message.writeDoubleBE(seq, 1);
  message.writeDoubleBE(offset, 9);
  let at = OUTPUT_HEADER_BYTES;
  for (const chunk of chunks) at += chunk.copy(message, at);
  return message;
}

export function decodeSessionMessage(buf: Buffer): SessionMessage {
  if (buf[0] === TAG_OUTPUT) {
    return {
      type: 'output',
      seq: buf.readDoubleBE(1),
      offset: buf.readDoubleBE(9),
      data: buf.subarray(OUTPUT_HEADER_BYTES),
    };
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

export function encodeRecordEvent(event: RecordEvent): Buffer {
  if (event.type === 'output') {
    const header = Buffer.allocUnsafe(RECORD_OUTPUT_HEADER_BYTES);
    header.writeUInt8(TAG_OUTPUT, 0);
    header.writeDoubleBE(event.seq, 1);
    header.writeDoubleBE(event.at, 9);
    return Buffer.concat([header, event.data]);
  }
  if (event.type === 'input') {
    // The data may be any bytes; who typed them goes in a length-prefixed JSON header.
    const who = Buffer.from(
      JSON.stringify({ at: event.at, userId: event.userId, username: event.username }),
    );
    const header = Buffer.allocUnsafe(5);
    header.writeUInt8(TAG_INPUT, 0);
    header.writeUInt32BE(who.length, 1);
    return Buffer.concat([header, who, event.data]);
  }
  return encodeJson(event);
}

export function decodeRecordEvent(buf: Buffer): RecordEvent {
  if (buf[0] === TAG_OUTPUT) {
    return {
      type: 'output',
      seq: buf.readDoubleBE(1),
      at: buf.readDoubleBE(9),
      data: buf.subarray(RECORD_OUTPUT_HEADER_BYTES),
    };
  }
  if (buf[0] === TAG_INPUT) {
    const whoLength = buf.readUInt32BE(1);
    const who = JSON.parse(buf.toString('utf8', 5, 5 + whoLength)) as {
      at: number;
      userId: string;
      username: string;
    };
    return { type: 'input', ...who, data: buf.subarray(5 + whoLength) };
  }
  return decodeJson(buf) as RecordEvent;
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
