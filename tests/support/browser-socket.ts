// The browser's end of a terminal WebSocket as a gateway's Attachment sees it, for tests that
// drive an Attachment without a network: what it is sent, and frames it receives.
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';

export class BrowserSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  /** Binary frames sent to the browser. */
  readonly received: Buffer[] = [];
  /** Text frames sent to the browser, parsed. */
  readonly control: { type: string; [key: string]: unknown }[] = [];
  send(data: Buffer | string): void {
    if (typeof data !== 'string') this.received.push(data);
    else this.control.push(JSON.parse(data) as { type: string });
  }
  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close');
  }
  ack(bytes: number): void {
    this.emit('message', Buffer.from(JSON.stringify({ type: 'ack', bytes })), false);
  }
  get asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }
}
