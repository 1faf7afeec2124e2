// The browser end of the terminal protocol (libs/protocol): binary frames are terminal bytes
// both ways, text frames are JSON control messages. One socket per session; never reconnects
// by itself, because a new socket is a new shell.
import type { EndReason, ServerMessage } from '@sallyport/protocol';

type Message<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** How a session ended: the gateway's `exit` message, or what the browser saw of the socket. */
export interface SessionEnd {
  reason: EndReason | 'lost' | 'unreachable' | 'disconnected';
  message: string;
  code: number | null;
  signal: string | null;
}

export interface TerminalSocketEvents {
  output(data: Uint8Array): void;
  session(message: Message<'session'>): void;
  ready(message: Message<'ready'>): void;
  /** A request of ours was refused; the session goes on. */
  error(message: Message<'error'>): void;
  /** Called exactly once, unless the socket is disposed first. */
  ended(end: SessionEnd): void;
}

// After Disconnect the gateway answers with `exit`; if it does not, stop waiting.
const CLOSE_GRACE_MS = 5_000;

export class TerminalSocket {
  private readonly ws: WebSocket;
  private readonly encoder = new TextEncoder();
  private opened = false;
  private ready = false;
  private finished = false;
  private closeTimer: number | undefined;
  private size: { cols: number; rows: number };
  private sentSize: { cols: number; rows: number };

  constructor(
    serverId: string,
    size: { cols: number; rows: number },
    private readonly events: TerminalSocketEvents,
  ) {
    this.size = this.sentSize = size;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = new URLSearchParams({
      serverId,
      cols: String(size.cols),
      rows: String(size.rows),
    });
    this.ws = new WebSocket(`${scheme}://${location.host}/api/terminal?${query.toString()}`);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => (this.opened = true);
    this.ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => this.onFrame(event.data);
    // The browser does not tell why an upgrade was refused (not logged in, unknown server,
    // wrong origin); the page checks the server and the login before opening a socket.
    this.ws.onclose = () =>
      this.finish(
        this.opened
          ? { reason: 'lost', message: 'connection to the gateway lost', code: null, signal: null }
          : {
              reason: 'unreachable',
              message: 'could not open a terminal connection to the gateway',
              code: null,
              signal: null,
            },
      );
  }

  /** Keystrokes and pastes (xterm's onData), sent as UTF-8 bytes. */
  sendInput(data: string): void {
    this.sendBytes(this.encoder.encode(data));
  }

  /** xterm's onBinary: a string of byte values (some mouse reports), sent as they are. */
  sendBinary(data: string): void {
    this.sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff));
  }

  /** The terminal was refitted. Sent once the shell is ready; the latest size wins. */
  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    if (this.ready) this.sendSize();
  }

  /** Ends the session on purpose (the Disconnect button). */
  disconnect(): void {
    if (this.finished) return;
    if (!this.ready || this.ws.readyState !== WebSocket.OPEN) {
      // Not connected yet: closing the socket makes the gateway drop the session.
      this.ws.close(1000);
      this.finish({
        reason: 'disconnected',
        message: 'disconnected before the session opened',
        code: null,
        signal: null,
      });
      return;
    }
    this.ws.send(JSON.stringify({ type: 'close' }));
    this.closeTimer = window.setTimeout(() => {
      this.ws.close(1000);
      this.finish({ reason: 'disconnected', message: 'disconnected', code: null, signal: null });
    }, CLOSE_GRACE_MS);
  }

  /** Closes the socket without reporting anything (the page is going away). */
  dispose(): void {
    this.finished = true;
    window.clearTimeout(this.closeTimer);
    this.ws.onclose = this.ws.onmessage = this.ws.onopen = null;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN)
      this.ws.close(1000);
  }

  private sendBytes(bytes: Uint8Array): void {
    // Before `ready` the gateway refuses input; dropping it beats a stream of error replies.
    if (this.ready && !this.finished && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  private sendSize(): void {
    const { cols, rows } = this.size;
    if (cols === this.sentSize.cols && rows === this.sentSize.rows) return;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
    this.sentSize = this.size;
  }

  private onFrame(data: ArrayBuffer | string): void {
    if (this.finished) return;
    if (typeof data !== 'string') return this.events.output(new Uint8Array(data));
    let message: ServerMessage;
    try {
      message = JSON.parse(data) as ServerMessage;
    } catch {
      return; // not ours to crash on; the gateway only sends JSON text frames
    }
    switch (message.type) {
      case 'session':
        return this.events.session(message);
      case 'ready':
        this.ready = true;
        this.events.ready(message);
        return this.sendSize(); // a refit while connecting
      case 'error':
        return this.events.error(message);
      case 'exit':
        return this.finish({
          reason: message.reason,
          message: message.message,
          code: message.code,
          signal: message.signal,
        });
    }
  }

  private finish(end: SessionEnd): void {
    if (this.finished) return;
    this.finished = true;
    window.clearTimeout(this.closeTimer);
    this.events.ended(end);
  }
}
