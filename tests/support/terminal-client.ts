import headlessPkg from '@xterm/headless';
import WebSocket from 'ws';
import { waitFor } from '../harness/processes.js';

const { Terminal } = headlessPkg;

export type ControlMessage = { type: string; [key: string]: any };

export interface ClientOptions {
  /**
   * Render output into the headless screen before acknowledging it (default), as a browser
   * does. Off, the client acknowledges on receipt: for tests that push a lot of output.
   */
  render: boolean;
}

const OUTPUT_TAIL_CHARS = 64 * 1024;

/**
 * A headless terminal client that speaks Sallyport's WebSocket protocol as the browser does:
 * binary frames for keystrokes and output, JSON text frames for control, acknowledgements of
 * what it has rendered, snapshots that reset its screen. It renders into a headless xterm, so a
 * test can compare screens cell for cell.
 */
export class TerminalClient {
  /** Every terminal byte received since the last snapshot, as text. */
  output = '';
  readonly control: ControlMessage[] = [];
  closeCode: number | undefined;
  /** Terminal bytes rendered (snapshots included): what the acks report. */
  private rendered = 0;
  private ackScheduled = false;
  private readonly screen = new Terminal({
    cols: 80,
    rows: 24,
    allowProposedApi: true,
    scrollback: 1000,
  });
  private writes = Promise.resolve();
  private readonly closed: Promise<number>;

  private constructor(
    readonly ws: WebSocket,
    private readonly options: ClientOptions,
  ) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        if (options.render) {
          this.output += data.toString('utf8');
          this.render(data, data.length);
        } else {
          // A fast reader: acknowledges on receipt and keeps only the recent text.
          this.output = (this.output + data.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
          this.rendered += data.length;
          this.scheduleAck();
        }
        return;
      }
      const msg = JSON.parse(data.toString('utf8')) as ControlMessage;
      this.control.push(msg);
      if (msg.type === 'snapshot') {
        this.output = '';
        this.writes = this.writes.then(() => {
          this.screen.reset();
          this.screen.resize(msg.cols as number, msg.rows as number);
        });
        this.render(msg.data as string, Buffer.byteLength(msg.data as string, 'utf8'));
      } else if (msg.type === 'resize') {
        this.writes = this.writes.then(() =>
          this.screen.resize(msg.cols as number, msg.rows as number),
        );
      }
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  /** Opens a terminal; rejects with the HTTP status when the gateway refuses the upgrade. */
  static open(
    baseUrl: string,
    query: Record<string, string | number>,
    headers: { cookie?: string; origin?: string },
    options: Partial<ClientOptions> = {},
  ): Promise<TerminalClient> {
    const url = new URL('/api/terminal', baseUrl.replace(/^http/, 'ws'));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const ws = new WebSocket(url, { headers: headers as Record<string, string> });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TerminalClient(ws, { render: true, ...options })));
      ws.once('unexpected-response', (_req, res) =>
        reject(new UpgradeRefused(res.statusCode ?? 0)),
      );
      ws.once('error', reject);
    });
  }

  get sessionId(): string {
    const msg = this.control.find((m) => m.type === 'session');
    if (!msg) throw new Error('no session message yet');
    return msg.id as string;
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text, 'utf8'));
  }

  sendControl(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  waitForControl(
    type: string,
    timeoutMs = 15_000,
    match: (m: ControlMessage) => boolean = () => true,
  ): Promise<ControlMessage> {
    return waitFor(() => this.control.find((m) => m.type === type && match(m)), {
      timeoutMs,
      description: `a "${type}" message`,
    });
  }

  async waitForOutput(pattern: RegExp | string, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      () =>
        typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output),
      {
        timeoutMs,
        description: `output matching ${String(pattern)} (got ${JSON.stringify(this.output.slice(-200))})`,
      },
    );
  }

  /** The rendered screen: one string per visible row, trailing blanks trimmed. */
  async rows(): Promise<string[]> {
    await this.writes;
    const buffer = this.screen.buffer.active;
    return Array.from(
      { length: this.screen.rows },
      (_, i) => buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? '',
    );
  }

  /** Every cell of the screen with its attributes, plus the cursor: for exact comparison. */
  async cells(): Promise<{ rows: string[][]; cursor: [number, number]; alternate: boolean }> {
    await this.writes;
    const buffer = this.screen.buffer.active;
    const rows: string[][] = [];
    for (let y = 0; y < this.screen.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y);
      const row: string[] = [];
      for (let x = 0; x < this.screen.cols; x++) {
        const c = line?.getCell(x);
        row.push(
          c
            ? `${c.getChars()}|${c.getFgColor()}|${c.getBgColor()}|${c.isBold()}|${c.isInverse()}`
            : '',
        );
      }
      rows.push(row);
    }
    return {
      rows,
      cursor: [buffer.cursorX, buffer.cursorY],
      alternate: buffer.type === 'alternate',
    };
  }

  /** Stop reading from the socket, as a browser tab that is frozen or on a dead network. */
  pauseReading(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resumeReading(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  /** Resolves with the close code. */
  waitForClose(): Promise<number> {
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }

  private render(data: Buffer | string, bytes: number): void {
    this.writes = this.writes.then(
      () =>
        new Promise<void>((resolve) =>
          this.screen.write(data, () => {
            this.rendered += bytes;
            this.scheduleAck();
            resolve();
          }),
        ),
    );
  }

  /** One ack per turn of the event loop, for everything rendered by then. */
  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      if (this.ws.readyState === this.ws.OPEN)
        this.sendControl({ type: 'ack', bytes: this.rendered });
    });
  }
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}
