import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { InputMessage, Role, SessionBus, SessionMessage } from '@sallyport/bus';
import type { Logger } from '@sallyport/log';
import { parseClientMessage, type ClientMessage, type ServerMessage } from '@sallyport/protocol';
import type { GatewayMetrics } from '../metrics.js';
import { AckMap } from './ack-map.js';
import type { EarlyWatch } from './early-watch.js';

export interface AttachmentDeps {
  bus: SessionBus;
  metrics: GatewayMetrics;
  log: Logger;
  /** Output a controlling browser may be behind before the worker pauses the shell. */
  flowWindowBytes: number;
}

/** Who is on the socket and how they came to this session. */
export interface AttachmentIdentity {
  sessionId: string;
  userId: string;
  username: string;
  role: Role;
  /** "owner", "share:<id>" or "invite:<id>". */
  via: string;
}

// A viewer further behind than this stops receiving output; once it has caught up with what
// it was sent, it gets a fresh snapshot instead of the backlog.
const VIEWER_MAX_LAG_BYTES = 4 * 1024 * 1024;
// Stream messages held while a snapshot is on its way; past this, ask for a newer snapshot.
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
// Acks go on to the worker in steps of a quarter of its flow window, and at least this: the
// worker then sees a browser at most a quarter of the window further behind than it is, and
// bulk output costs the bus a few acks per MB (one per 256 KiB with the default window). Once
// a browser that may type has caught up, the rest follows a moment later: a paused shell
// resumes, and a burst of small outputs (typing, a prompt) costs the bus one message rather
// than one each. No shell waits for a viewer, so its acks go on in steps, which keep the worker
// within a step of it should it be given control (then at once), and a second after it caught
// up, in case the grant's message never reached this gateway: fifty viewers of a busy session
// had sent the bus over a thousand caught-up acks a second.
const MIN_ACK_STEP_BYTES = 64 * 1024;
const CAUGHT_UP_ACK_DELAY_MS = 20;
const VIEWER_CAUGHT_UP_ACK_DELAY_MS = 1000;
// Safety net for anyone (controllers are bounded by the worker's flow window long before).
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

type StreamMessage = Extract<SessionMessage, { type: 'output' | 'resize' }>;

// The close frame's reason when the socket ends for something other than the session's end.
const CLOSE_REASONS: Partial<Record<Extract<ServerMessage, { type: 'exit' }>['reason'], string>> = {
  removed: 'removed',
  refused: 'session not opened',
};

/**
 * One browser socket on one session. It holds no SSH state: it relays between the socket and
 * the session's channels on the bus. A socket joining a running session is shown a snapshot
 * and then exactly the stream after it: messages up to the snapshot's sequence are dropped,
 * later ones are held until it arrives. Input is checked against the participant's role here,
 * and again by the worker.
 */
export class Attachment {
  readonly attachId = randomUUID();
  readonly log: Logger;
  role: Role;
  private state: 'syncing' | 'live' | 'cut-off' | 'ended' = 'syncing';
  /** Shell open and screen shown: keystrokes may go through. */
  private ready = false;
  private lastSeq = 0;
  private pending: StreamMessage[] = [];
  private pendingBytes = 0;
  private readonly acks = new AckMap();
  private readonly ackStepBytes: number;
  private ackTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private socketClosed = false;
  private refusals = 0;
  /** Called once the socket is done, whatever ended it. */
  onClosed: () => void = () => undefined;
  /** Called when a worker has taken the session this socket opened. */
  onAccepted: () => void = () => undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly identity: AttachmentIdentity,
    private readonly deps: AttachmentDeps,
  ) {
    this.role = identity.role;
    this.ackStepBytes = Math.max(MIN_ACK_STEP_BYTES, Math.floor(deps.flowWindowBytes / 4));
    this.log = deps.log.child({
      sessionId: identity.sessionId,
      userId: identity.userId,
      attachId: this.attachId,
    });
    ws.on('message', (data, isBinary) => this.onClientFrame(data, isBinary));
    ws.on('close', () => void this.onSocketClosed());
    ws.on('error', (err) => this.log.warn({ err }, 'terminal socket error'));
  }

  get sessionId(): string {
    return this.identity.sessionId;
  }

  get isEnded(): boolean {
    return this.state === 'ended';
  }

  /**
   * Subscribes to the session, or takes the subscription made for it while the socket was checked
   * (a new session's). Call before the worker can publish anything this socket needs.
   */
  async watch(early?: EarlyWatch): Promise<void> {
    const onMessage = (msg: SessionMessage): void => this.onSessionMessage(msg);
    if (early && early.sessionId !== this.sessionId)
      throw new Error(`a subscription to ${early.sessionId} offered to session ${this.sessionId}`);
    const unsubscribe = await (early
      ? early.take(onMessage)
      : this.deps.bus.watch(this.sessionId, onMessage));
    // The browser may have gone while the subscription was made; nothing would end it later.
    if (this.socketClosed) return unsubscribe();
    this.unsubscribe = unsubscribe;
  }

  /** The socket opened the session: it sees the stream from its first byte, no snapshot. */
  startAsOpener(): void {
    this.state = 'live';
  }

  /** The socket joins a running session: ask the worker for a snapshot. */
  async attach(): Promise<void> {
    const { userId, username, role, via } = this.identity;
    await this.relay({ type: 'attach', attachId: this.attachId, userId, username, role, via });
  }

  send(msg: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  /** Ends this socket with a last message (the session, or this participant's part in it, is over). */
  finish(final: Extract<ServerMessage, { type: 'exit' }>): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.log.info({ reason: final.reason }, 'terminal socket finished');
    this.send(final);
    this.ws.close(1000, CLOSE_REASONS[final.reason] ?? 'session ended');
  }

  // ---- from the session ----

  private onSessionMessage(msg: SessionMessage): void {
    if (this.state === 'ended') return;
    switch (msg.type) {
      case 'output':
      case 'resize':
        return this.onStream(msg);
      case 'snapshot':
        if (msg.attachId === this.attachId) this.onSnapshot(msg);
        return;
      case 'accepted':
        this.onAccepted();
        return;
      case 'ready':
        this.ready = true;
        this.send({
          type: 'ready',
          hostKeyFingerprint: msg.hostKeyFingerprint,
          hostKeyPinned: msg.hostKeyPinned,
        });
        return;
      case 'participants': {
        const me = msg.participants.find((p) => p.userId === this.identity.userId);
        if (me && me.role !== this.role) {
          this.role = me.role;
          this.send({ type: 'role', role: me.role });
          if (this.mayWrite()) this.forwardAck();
        }
        this.send({ type: 'participants', participants: msg.participants });
        return;
      }
      case 'control-request':
        if (this.role === 'owner')
          this.send({ type: 'control-request', userId: msg.userId, username: msg.username });
        return;
      case 'control-answer':
        // A take-back arrives as a role change; only a denial needs its own message.
        if (msg.userId === this.identity.userId && !msg.granted && this.role === 'view')
          this.send({ type: 'control-denied' });
        return;
      case 'kick':
        if (msg.attachIds.includes(this.attachId)) {
          this.finish({
            type: 'exit',
            reason: 'removed',
            message: msg.message,
            code: null,
            signal: null,
          });
        }
        return;
      case 'ended':
        this.finish({
          type: 'exit',
          reason: msg.reason,
          message: msg.message,
          code: msg.exitCode,
          signal: msg.exitSignal,
        });
        return;
    }
  }

  private onStream(msg: StreamMessage): void {
    if (msg.seq <= this.lastSeq) return; // already in the snapshot this socket was shown
    switch (this.state) {
      case 'syncing':
        this.pending.push(msg);
        this.pendingBytes += msg.type === 'output' ? msg.data.length : 0;
        if (this.pendingBytes > MAX_PENDING_BYTES) this.resync('the stream outran the snapshot');
        return;
      case 'live':
        return this.deliver(msg);
      case 'cut-off':
      case 'ended':
        return;
    }
  }

  private deliver(msg: StreamMessage): void {
    this.lastSeq = msg.seq;
    if (msg.type === 'resize') return this.send({ type: 'resize', cols: msg.cols, rows: msg.rows });
    if (this.role === 'view' && this.acks.unacked > VIEWER_MAX_LAG_BYTES) {
      this.state = 'cut-off';
      this.log.info(
        { unacked: this.acks.unacked },
        'viewer fell behind; holding output until it catches up',
      );
      return;
    }
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log.warn('browser is not reading output; closing its socket');
      this.ws.close(1013, 'client too slow');
      return;
    }
    this.acks.sent(msg.data.length, msg.offset + msg.data.length);
    this.deps.metrics.bytes.inc({ direction: 'out' }, msg.data.length);
    this.ws.send(msg.data, { binary: true });
  }

  private onSnapshot(msg: Extract<SessionMessage, { type: 'snapshot' }>): void {
    this.lastSeq = msg.seq;
    this.acks.sent(Buffer.byteLength(msg.data, 'utf8'), msg.offset);
    this.send({ type: 'snapshot', cols: msg.cols, rows: msg.rows, data: msg.data });
    this.ready = true;
    this.state = 'live';
    const held = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const m of held) if (m.seq > this.lastSeq && this.state === 'live') this.deliver(m);
  }

  /** Forget the backlog and start again from a fresh snapshot. */
  private resync(why: string): void {
    this.log.info({ why }, 'resyncing from a fresh snapshot');
    this.state = 'syncing';
    this.pending = [];
    this.pendingBytes = 0;
    void this.relay({ type: 'resync', attachId: this.attachId });
  }

  // ---- from the browser ----

  private onClientFrame(data: RawData, isBinary: boolean): void {
    if (this.state === 'ended') return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const { userId } = this.identity;
    if (isBinary) {
      if (!this.mayWrite())
        return this.refuse('view-only participants cannot type in this session');
      if (!this.ready)
        return this.send({
          type: 'error',
          code: 'not_ready',
          message: 'the terminal is not connected yet',
        });
      this.deps.metrics.bytes.inc({ direction: 'in' }, bytes.length);
      void this.relay({ type: 'input', userId, data: bytes });
      return;
    }
    const parsed = parseClientMessage(bytes.toString('utf8'));
    if (!parsed.ok) return this.send({ type: 'error', code: parsed.code, message: parsed.message });
    this.onControlMessage(parsed.message);
  }

  private onControlMessage(msg: ClientMessage): void {
    const { userId } = this.identity;
    switch (msg.type) {
      case 'ack':
        return this.onAck(msg.bytes);
      case 'resize':
        if (!this.mayWrite())
          return this.refuse('view-only participants cannot resize the terminal');
        void this.relay({ type: 'resize', userId, cols: msg.cols, rows: msg.rows });
        return;
      case 'close':
        if (this.role !== 'owner') return this.refuse('only the owner can end the session');
        void this.relay({ type: 'close', userId });
        return;
      case 'control-request':
        if (this.role !== 'view') return this.refuse('you already have control');
        void this.relay({ type: 'control', userId, action: 'request' });
        return;
      case 'control-grant':
      case 'control-deny':
      case 'control-revoke': {
        if (this.role !== 'owner') return this.refuse('only the owner can hand over control');
        const action =
          msg.type === 'control-grant' ? 'grant' : msg.type === 'control-deny' ? 'deny' : 'revoke';
        void this.relay({ type: 'control', userId, action, target: msg.userId });
        return;
      }
    }
  }

  private onAck(bytes: number): void {
    this.acks.ack(bytes);
    const unforwarded = this.acks.completed - this.acks.forwarded;
    if (unforwarded >= this.ackStepBytes) this.forwardAck();
    else if (unforwarded > 0 && this.acks.caughtUp) {
      const delay = this.mayWrite() ? CAUGHT_UP_ACK_DELAY_MS : VIEWER_CAUGHT_UP_ACK_DELAY_MS;
      this.ackTimer ??= setTimeout(() => this.forwardAck(), delay);
    }
    if (this.state === 'cut-off' && this.acks.caughtUp) this.resync('viewer caught up');
  }

  /** Tells the worker how far this browser has rendered: its flow control goes by that. */
  private forwardAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.state === 'ended' || this.acks.completed <= this.acks.forwarded) return;
    this.acks.forwarded = this.acks.completed;
    void this.relay({ type: 'ack', attachId: this.attachId, offset: this.acks.forwarded });
  }

  private mayWrite(): boolean {
    return this.role === 'owner' || this.role === 'control';
  }

  private refuse(message: string): void {
    // Logged, but not every keystroke of a viewer who keeps typing.
    if (this.refusals++ < 5) this.log.warn({ role: this.role }, `refused: ${message}`);
    this.send({ type: 'error', code: 'forbidden', message });
  }

  private async relay(msg: InputMessage): Promise<void> {
    try {
      await this.deps.bus.sendInput(this.sessionId, msg);
    } catch (err) {
      this.log.warn({ err, type: msg.type }, 'could not reach the session');
      this.send({
        type: 'error',
        code: 'not_ready',
        message: 'the session is unreachable right now',
      });
    }
  }

  /** The browser went away: the session goes on without this socket. */
  private async onSocketClosed(): Promise<void> {
    this.socketClosed = true;
    const wasEnded = this.state === 'ended';
    this.state = 'ended';
    clearTimeout(this.ackTimer);
    if (!wasEnded) await this.relay({ type: 'detach', attachId: this.attachId });
    await this.unsubscribe?.().catch((err: unknown) =>
      this.log.warn({ err }, 'could not unsubscribe'),
    );
    this.onClosed();
  }
}
