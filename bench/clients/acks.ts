// Acknowledgements of rendered output, as the browser sends them for end-to-end flow control
// (DESIGN.md "Flow control is end to end", issue 3). The protocol has no `ack` message yet; the
// bench switches acknowledgements on by itself once @sallyport/protocol accepts the message
// built by `ackMessage`, so the day the lead's change lands, the bench measures with acks.
// If the final message differs in shape, `ackMessage` is the one place to change.
import { clientMessageSchema, parseClientMessage } from '@sallyport/protocol';

/** How many rendered bytes the client lets pile up before acknowledging them. */
const ACK_EVERY_BYTES = 64 * 1024;
/** A smaller amount is acknowledged once output pauses this long (an echo, a prompt). */
const ACK_IDLE_MS = 5;

/** The acknowledgement the bench assumes: total terminal bytes rendered on this socket. */
export function ackMessage(renderedBytes: number): Record<string, unknown> {
  return { type: 'ack', bytes: renderedBytes };
}

export type AckSupport = 'on' | 'off: the protocol has no ack message' | 'off: ack shape differs';

/** Whether the built protocol (the one the services run) accepts our acknowledgement. */
export function ackSupport(): AckSupport {
  if (parseClientMessage(JSON.stringify(ackMessage(0))).ok) return 'on';
  const hasAck = clientMessageSchema.options.some((o) => o.shape.type.value === ('ack' as string));
  return hasAck ? 'off: ack shape differs' : 'off: the protocol has no ack message';
}

export interface Acker {
  /** Output of `bytes` length was handed to the terminal (rendered). */
  rendered(bytes: number): void;
  /** Stops the idle timer. */
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
    send(JSON.stringify(ackMessage(total)));
  };
  return {
    rendered(bytes) {
      total += bytes;
      if (total - acked >= ACK_EVERY_BYTES) flush();
      else timer ??= setTimeout(flush, ACK_IDLE_MS);
    },
    stop: () => clearTimeout(timer),
    get sent() {
      return sent;
    },
  };
}
