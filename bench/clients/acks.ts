// Acknowledgements of rendered output, as the browser sends them for end-to-end flow control
// (libs/protocol `ack`; services/gateway/ui/terminal-socket.ts): the total of terminal bytes
// rendered on this socket, snapshots included, batched like the browser batches them.
// Without acks a controlling client's shell pauses once the flow window is out, and a viewer
// is cut off once it lags by a few MB.
import type { ClientMessage } from '@sallyport/protocol';

// The browser's batching (terminal-socket.ts ACK_BATCH_BYTES and ACK_DELAY_MS): an ack as soon
// as this much was rendered since the last one, otherwise at most this long after a render.
const ACK_BATCH_BYTES = 32 * 1024;
const ACK_DELAY_MS = 16;

export interface Acker {
  /** Output of `bytes` length was handed to the terminal (rendered). */
  rendered(bytes: number): void;
  /** Stops the timer. */
  stop(): void;
  readonly sent: number;
}

/** Acknowledges rendered bytes through `send`; a no-op acker when acks are off. */
export function createAcker(enabled: boolean, send: (text: string) => void): Acker {
  if (!enabled) return { rendered: () => undefined, stop: () => undefined, sent: 0 };
  let total = 0;
  let acked = 0;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (total === acked) return;
    acked = total;
    sent += 1;
    send(JSON.stringify({ type: 'ack', bytes: total } satisfies ClientMessage));
  };
  return {
    rendered(bytes) {
      total += bytes;
      if (total - acked >= ACK_BATCH_BYTES) flush();
      else timer ??= setTimeout(flush, ACK_DELAY_MS);
    },
    stop: () => clearTimeout(timer),
    get sent() {
      return sent;
    },
  };
}
