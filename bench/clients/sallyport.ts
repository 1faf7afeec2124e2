// A headless browser tab: speaks the terminal protocol (libs/protocol) exactly as the web UI's
// terminal-socket.ts does — login cookie and the page's Origin on the upgrade, binary frames for
// bytes, JSON text frames for control, input only after `ready`, `close` to disconnect — and
// acknowledges what it has rendered, snapshots included (acks.ts).
import WebSocket from 'ws';
import type { ServerMessage } from '@sallyport/protocol';
import { createAcker, type Acker } from './acks.js';
import { PROMPT, type BenchTerminal, type OpenTiming, type TerminalOpener } from './terminal.js';

export interface SallyportTarget {
  /**
   * Gateway base URLs (http://127.0.0.1:port); `gateway` in open() picks one. Each gateway
   * allows its own origin: a tab's Origin is that of the gateway that served the page.
   */
  gatewayUrls: readonly string[];
  serverId: string;
  /** The login cookie of the user who opens sessions (the admin). */
  cookie: string;
  acks: boolean;
}

const OPEN_TIMEOUT_MS = 30_000;

export function sallyportOpener(target: SallyportTarget): TerminalOpener {
  return { open: (options = {}) => openSallyport(target, options) };
}

/**
 * Opens a terminal WebSocket (a new session) and resolves at the first prompt. `query` replaces
 * the new-session query, for attaching to an existing session (fan-out joiners, with their own
 * login `cookie`): that resolves once the gateway says the socket is attached (`snapshot` or
 * `ready`), as a joiner may see no new output until the session prints something.
 */
export function openSallyport(
  target: SallyportTarget,
  options: {
    cols?: number;
    rows?: number;
    gateway?: number;
    query?: Record<string, string>;
    cookie?: string;
  } = {},
): Promise<SallyportTerminal> {
  const base = target.gatewayUrls[(options.gateway ?? 0) % target.gatewayUrls.length]!;
  const url = new URL('/api/terminal', base.replace(/^http/, 'ws'));
  const query = options.query ?? {
    serverId: target.serverId,
    cols: String(options.cols ?? 80),
    rows: String(options.rows ?? 24),
  };
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const startedAt = performance.now();
  const ws = new WebSocket(url, {
    headers: { cookie: options.cookie ?? target.cookie, origin: new URL(base).origin },
    perMessageDeflate: false, // the gateway does not offer it; say so and skip the negotiation
  });
  return new Promise((resolve, reject) => {
    const terminal = new SallyportTerminal(ws, startedAt, target.acks);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(
        new Error(`no prompt within ${OPEN_TIMEOUT_MS} ms (control: ${terminal.controlSummary()})`),
      );
    }, OPEN_TIMEOUT_MS);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`terminal upgrade refused with HTTP ${res.statusCode}`));
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    terminal.untilOpen(options.query ? 'attached' : 'prompt').then(
      () => {
        clearTimeout(timer);
        resolve(terminal);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export class SallyportTerminal implements BenchTerminal {
  readonly received = { frames: 0, bytes: 0 };
  readonly timing: OpenTiming;
  readonly control: ServerMessage[] = [];
  /** Text frames (control messages) received, for frame accounting. */
  textFrames = 0;
  /**
   * Snapshots received. A joiner gets one on attaching; any later one means the gateway cut it
   * off for falling behind and resynchronised it, so it missed output.
   */
  snapshots = 0;
  private ready = false;
  private listener: (chunk: Buffer) => void = () => undefined;
  private onControl: ((msg: ServerMessage) => void) | undefined;
  private readonly acker: Acker;
  private readonly closed: Promise<void>;

  constructor(
    readonly ws: WebSocket,
    startedAt: number,
    acks: boolean,
  ) {
    this.timing = { startedAt, firstByteAt: 0, phases: {} };
    ws.once('open', () => (this.timing.phases.open = performance.now()));
    this.acker = createAcker(acks, (text) => this.sendText(text));
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        this.timing.firstByteAt ||= performance.now();
        this.received.frames += 1;
        this.received.bytes += data.length;
        this.listener(data);
        // The listener has consumed the bytes: for a headless client that is "rendered".
        this.acker.rendered(data.length);
        return;
      }
      this.textFrames += 1;
      const msg = JSON.parse(data.toString('utf8')) as ServerMessage;
      this.timing.phases[msg.type] ??= performance.now();
      this.control.push(msg);
      if (msg.type === 'ready') this.ready = true;
      if (msg.type === 'snapshot') {
        // A snapshot is rendered too, and the gateway counts its bytes among those sent.
        this.snapshots += 1;
        this.ready = true;
        this.acker.rendered(Buffer.byteLength(msg.data, 'utf8'));
      }
      this.onControl?.(msg);
    });
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    void this.closed.then(() => this.acker.stop());
  }

  /**
   * Resolves at the first prompt (a new session) or when attached (a joiner); rejects if the
   * session ends or reports an error first.
   */
  untilOpen(until: 'prompt' | 'attached'): Promise<void> {
    return new Promise((resolve, reject) => {
      let seen = Buffer.alloc(0);
      const done = (): void => {
        this.listener = () => undefined;
        this.onControl = undefined;
        resolve();
      };
      this.listener = (chunk) => {
        seen = Buffer.concat([seen, chunk]);
        if (this.ready && seen.includes(PROMPT)) done();
      };
      this.onControl = (msg) => {
        if (msg.type === 'exit' || msg.type === 'error') {
          reject(new Error(`session failed to open: ${JSON.stringify(msg)}`));
        } else if (until === 'attached' && (msg.type === 'snapshot' || msg.type === 'ready')) {
          done();
        }
      };
      void this.closed.then(() =>
        reject(new Error(`socket closed while opening (${this.controlSummary()})`)),
      );
    });
  }

  controlSummary(): string {
    return this.control.map((m) => m.type).join(',') || 'none';
  }

  write(data: string | Buffer): void {
    if (!this.ready) throw new Error('input before ready: the gateway would refuse it');
    this.ws.send(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, { binary: true });
  }

  onOutput(listener: (chunk: Buffer) => void): void {
    this.listener = listener;
  }

  /** The Disconnect button: `close`, then wait for the gateway's `exit` and the socket close. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.sendText(JSON.stringify({ type: 'close' }));
    const timeout = setTimeout(() => this.ws.terminate(), 5_000);
    await this.closed;
    clearTimeout(timeout);
  }

  /** Leaving the page: the socket closes, the session goes on without this participant. */
  async detach(): Promise<void> {
    this.ws.close(1000);
    const timeout = setTimeout(() => this.ws.terminate(), 5_000);
    await this.closed;
    clearTimeout(timeout);
  }

  private sendText(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }
}
