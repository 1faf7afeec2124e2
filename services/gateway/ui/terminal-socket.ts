// The browser end of the terminal protocol (libs/protocol): binary frames are terminal bytes
// both ways, text frames are JSON control messages. A TerminalSocket follows one session: it
// opens it (or attaches to it), acknowledges what the page has rendered (the shell pauses
// without acks), and when the connection drops without the session having ended (a gateway
// restart, a network blip) it attaches again by session id, with backoff; the snapshot the
// gateway then sends restores the screen.
import type { EndReason, Participant, Role, ServerMessage } from '@sallyport/protocol';

type Message<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A new session on a server, or a running session to attach to. */
export type SessionTarget =
  { serverId: string; cols: number; rows: number } | { sessionId: string };

/** How a session ended: the gateway's `exit` message, or what the browser saw of the socket. */
export interface SessionEnd {
  reason: EndReason | 'removed' | 'refused' | 'lost' | 'unreachable' | 'disconnected';
  message: string;
  code: number | null;
  signal: string | null;
}

export interface TerminalSocketEvents {
  /** Terminal bytes. Call `rendered` once they are written (xterm's write callback). */
  output(data: Uint8Array, rendered: () => void): void;
  /** The exact screen: reset the terminal to this size and write `data`; live output follows. */
  snapshot(snapshot: { cols: number; rows: number; data: string }, rendered: () => void): void;
  /** The session's terminal size changed. */
  sessionResize(cols: number, rows: number): void;
  session(message: Message<'session'>): void;
  ready(message: Message<'ready'>): void;
  participants(participants: Participant[]): void;
  /** (owner) someone asks for control. */
  controlRequest(request: { userId: string; username: string }): void;
  /** This user's role changed (control granted or taken back). */
  role(role: Role): void;
  /** (viewer) the owner declined a request for control. */
  controlDenied(): void;
  /** A request of ours was refused; the session goes on. */
  error(message: Message<'error'>): void;
  /**
   * The connection dropped (or an attach was refused); attaching again after `delayMs`.
   * `wasLive`: this page had been shown the session before.
   */
  reconnecting(info: { attempt: number; delayMs: number; wasLive: boolean }): void;
  /** Called exactly once, unless the socket is disposed first. */
  ended(end: SessionEnd): void;
}

// Waits before each attempt to attach again: 0.5 s, 1 s, 2 s … 10 s, then give up.
const RECONNECT_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000, 10_000];
// A session this page has never been shown is given fewer tries (it may be gone, or not ours).
const FIRST_ATTACH_TRIES = 3;
// After End session the gateway answers with `exit`; if it does not, stop waiting.
const CLOSE_GRACE_MS = 5_000;
// Acks go out at most this often, or as soon as this much was rendered since the last one.
const ACK_DELAY_MS = 16;
const ACK_BATCH_BYTES = 32 * 1024;

export class TerminalSocket {
  private ws: WebSocket | undefined;
  private readonly encoder = new TextEncoder();
  /** Which socket is current: render callbacks from an older one must not count. */
  private generation = 0;
  private opened = false;
  /** Shown the session (ready or a snapshot) at least once on any socket. */
  private everLive = false;
  /** The current socket shows the session: input and resizes may go. */
  private live = false;
  private finished = false;
  private ending = false;
  private attempts = 0;
  private retryTimer: number | undefined;
  private closeTimer: number | undefined;
  private sessionIdValue: string | undefined;
  private roleValue: Role | undefined;
  private size: { cols: number; rows: number } | undefined;
  private sentSize: { cols: number; rows: number } | undefined;
  /** Terminal bytes rendered, and acknowledged, on the current socket. */
  private rendered = 0;
  private acked = 0;
  private ackTimer: number | undefined;

  constructor(
    private readonly target: SessionTarget,
    private readonly events: TerminalSocketEvents,
  ) {
    if ('sessionId' in target) this.sessionIdValue = target.sessionId;
    else this.size = this.sentSize = { cols: target.cols, rows: target.rows };
    this.open();
  }

  /** The session's id, once known. */
  get sessionId(): string | undefined {
    return this.sessionIdValue;
  }

  get role(): Role | undefined {
    return this.roleValue;
  }

  /** Connected and shown the session (not connecting, not reconnecting). */
  get isLive(): boolean {
    return this.live && !this.finished;
  }

  get mayWrite(): boolean {
    return this.roleValue === 'owner' || this.roleValue === 'control';
  }

  /** Keystrokes and pastes (xterm's onData), sent as UTF-8 bytes. */
  sendInput(data: string): void {
    this.sendBytes(this.encoder.encode(data));
  }

  /** xterm's onBinary: a string of byte values (some mouse reports), sent as they are. */
  sendBinary(data: string): void {
    this.sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff));
  }

  /** The terminal was refitted. Sent once the session is shown; the latest size wins. */
  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    if (this.live) this.sendSize();
  }

  /** Control messages of the sharing protocol (asking for, granting, denying, taking back). */
  control(
    message:
      | { type: 'control-request' }
      | { type: 'control-grant' | 'control-deny' | 'control-revoke'; userId: string },
  ): boolean {
    return this.sendJson(message);
  }

  /**
   * Ends the session for everybody (the owner's End session). Returns false when there is no
   * live connection to say so on; the caller ends it over REST instead.
   */
  endSession(): boolean {
    if (this.finished || !this.live || !this.sendJson({ type: 'close' })) return false;
    this.ending = true;
    this.closeTimer = window.setTimeout(() => {
      this.finish({ reason: 'disconnected', message: 'disconnected', code: null, signal: null });
      this.closeSocket();
    }, CLOSE_GRACE_MS);
    return true;
  }

  /** Closes the socket without reporting anything: a detach (the session goes on). */
  dispose(): void {
    this.finished = true;
    this.clearTimers();
    this.closeSocket();
  }

  // ---- the connection ----

  private open(): void {
    this.generation += 1;
    this.opened = false;
    this.live = false;
    this.rendered = this.acked = 0;
    window.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;

    const query = new URLSearchParams();
    if (this.sessionIdValue !== undefined) {
      query.set('sessionId', this.sessionIdValue);
    } else if ('serverId' in this.target) {
      const size = this.size ?? this.target;
      query.set('serverId', this.target.serverId);
      query.set('cols', String(size.cols));
      query.set('rows', String(size.rows));
      this.sentSize = size;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/terminal?${query.toString()}`);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => (this.opened = true);
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => this.onFrame(event.data);
    ws.onclose = () => this.onClose();
    this.ws = ws;
  }

  private closeSocket(): void {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = ws.onmessage = ws.onopen = null;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close(1000);
  }

  /** The socket closed without an `exit`: attach again if there is a session to go back to. */
  private onClose(): void {
    this.live = false;
    if (this.finished) return;
    if (this.ending) {
      return this.finish({
        reason: 'disconnected',
        message: 'disconnected',
        code: null,
        signal: null,
      });
    }
    const tries = this.everLive ? RECONNECT_DELAYS_MS.length : FIRST_ATTACH_TRIES;
    // The browser does not tell why an upgrade was refused (not logged in, no access, ended).
    if (this.sessionIdValue === undefined || this.attempts >= tries) {
      return this.finish(
        this.everLive
          ? { reason: 'lost', message: 'connection to the gateway lost', code: null, signal: null }
          : {
              reason: 'unreachable',
              message:
                this.sessionIdValue === undefined || 'serverId' in this.target
                  ? 'could not open a terminal connection to the gateway'
                  : 'could not attach to the session: it may have ended, or you may not have access to it',
              code: null,
              signal: null,
            },
      );
    }
    const delayMs = RECONNECT_DELAYS_MS[this.attempts] ?? 10_000;
    this.attempts += 1;
    this.events.reconnecting({ attempt: this.attempts, delayMs, wasLive: this.everLive });
    this.retryTimer = window.setTimeout(() => {
      if (!this.finished) this.open();
    }, delayMs);
  }

  private onFrame(data: ArrayBuffer | string): void {
    if (this.finished) return;
    const generation = this.generation;
    if (typeof data !== 'string') {
      const bytes = new Uint8Array(data);
      return this.events.output(bytes, () => this.credit(generation, bytes.byteLength));
    }
    let message: ServerMessage;
    try {
      message = JSON.parse(data) as ServerMessage;
    } catch {
      return; // not ours to crash on; the gateway only sends JSON text frames
    }
    switch (message.type) {
      case 'session':
        this.sessionIdValue = message.id;
        this.roleValue = message.role;
        return this.events.session(message);
      case 'ready':
        this.becameLive();
        this.events.ready(message);
        return this.sendSize(); // a refit while connecting
      case 'snapshot': {
        this.becameLive();
        // The session's size now; an owner whose window differs says so after rendering it.
        this.sentSize = { cols: message.cols, rows: message.rows };
        const bytes = this.encoder.encode(message.data).byteLength;
        return this.events.snapshot(message, () => this.credit(generation, bytes));
      }
      case 'resize':
        this.sentSize = { cols: message.cols, rows: message.rows };
        return this.events.sessionResize(message.cols, message.rows);
      case 'participants':
        return this.events.participants(message.participants);
      case 'control-request':
        return this.events.controlRequest({ userId: message.userId, username: message.username });
      case 'role':
        this.roleValue = message.role;
        return this.events.role(message.role);
      case 'control-denied':
        return this.events.controlDenied();
      case 'error':
        return this.events.error(message);
      case 'exit':
        this.closeSocket();
        return this.finish({
          reason: message.reason,
          message: message.message,
          code: message.code,
          signal: message.signal,
        });
    }
  }

  private becameLive(): void {
    this.live = true;
    this.everLive = true;
    this.attempts = 0;
  }

  // ---- sending ----

  private sendBytes(bytes: Uint8Array): void {
    // Before the session is shown the gateway refuses input; dropping it beats a stream of
    // error replies. Viewers' keystrokes would be refused too.
    if (!this.live || this.finished || !this.mayWrite) return;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  private sendJson(message: object): boolean {
    if (this.finished || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  private sendSize(): void {
    if (!this.size || !this.mayWrite) return;
    const { cols, rows } = this.size;
    if (cols === this.sentSize?.cols && rows === this.sentSize.rows) return;
    if (this.sendJson({ type: 'resize', cols, rows })) this.sentSize = this.size;
  }

  /** Counts rendered bytes of socket `generation` and acknowledges them, batched. */
  private credit(generation: number, bytes: number): void {
    if (generation !== this.generation || this.finished) return;
    this.rendered += bytes;
    if (this.rendered - this.acked >= ACK_BATCH_BYTES) this.flushAck();
    else this.ackTimer ??= window.setTimeout(() => this.flushAck(), ACK_DELAY_MS);
  }

  private flushAck(): void {
    window.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.rendered === this.acked) return;
    if (this.sendJson({ type: 'ack', bytes: this.rendered })) this.acked = this.rendered;
  }

  // ---- the end ----

  private clearTimers(): void {
    window.clearTimeout(this.closeTimer);
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  private finish(end: SessionEnd): void {
    if (this.finished) return;
    this.finished = true;
    this.live = false;
    this.clearTimers();
    this.events.ended(end);
  }
}
