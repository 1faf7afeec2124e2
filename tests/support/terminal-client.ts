import WebSocket from 'ws';
import { waitFor } from '../harness/processes.js';

export type ControlMessage = { type: string; [key: string]: unknown };

/**
 * A headless terminal client that speaks Sallyport's WebSocket protocol as the browser does:
 * binary frames for keystrokes and output, JSON text frames for control.
 */
export class TerminalClient {
  output = '';
  readonly control: ControlMessage[] = [];
  closeCode: number | undefined;
  private readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.output += data.toString('utf8');
      else this.control.push(JSON.parse(data.toString('utf8')) as ControlMessage);
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
  ): Promise<TerminalClient> {
    const url = new URL('/api/terminal', baseUrl.replace(/^http/, 'ws'));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const ws = new WebSocket(url, { headers: headers as Record<string, string> });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TerminalClient(ws)));
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

  waitForControl(type: string, timeoutMs = 15_000): Promise<ControlMessage> {
    return waitFor(() => this.control.find((m) => m.type === type), {
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

  /** Resolves with the close code. */
  waitForClose(): Promise<number> {
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}
