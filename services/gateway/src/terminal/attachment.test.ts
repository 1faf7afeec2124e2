import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryTransport, SessionBus, type InputMessage } from '@sallyport/bus';
import { createLogger } from '@sallyport/log';
import { createGatewayMetrics } from '../metrics.js';
import { BrowserSocket } from '../../../../tests/support/browser-socket.js';
import { Attachment, type AttachmentIdentity } from './attachment.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const SESSION = '6f1d2c3b-0000-4000-8000-000000000001';

const OWNER: AttachmentIdentity = {
  sessionId: SESSION,
  userId: 'u1',
  username: 'ann',
  role: 'owner',
  via: 'owner',
};
const VIEWER: AttachmentIdentity = {
  sessionId: SESSION,
  userId: 'u2',
  username: 'bob',
  role: 'view',
  via: 'share:s1',
};

/** A socket on SESSION (the owner's unless told), on a worker with this flow window. */
const attachmentOf = (
  socket: BrowserSocket,
  bus: SessionBus,
  flowWindowBytes: number,
  identity: AttachmentIdentity = OWNER,
) =>
  new Attachment(socket.asWebSocket, identity, {
    bus,
    metrics: createGatewayMetrics(new Registry()),
    log: createLogger('test', { level: 'silent' }),
    flowWindowBytes,
  });

describe('Attachment: acknowledgements on to the worker', () => {
  let bus: SessionBus;
  let socket: BrowserSocket;
  let toWorker: InputMessage[];
  let offset: number;

  beforeEach(() => {
    // Only the attachment's own timer is faked; the bus delivers on real turns.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    bus = new SessionBus(createMemoryTransport());
    socket = new BrowserSocket();
  });

  /** The owner's socket on a session whose worker has this flow window. */
  async function open(flowWindowBytes: number): Promise<void> {
    const attachment = attachmentOf(socket, bus, flowWindowBytes);
    await attachment.watch();
    attachment.startAsOpener();
    toWorker = [];
    await bus.listenInput(SESSION, (msg) => toWorker.push(msg));
    offset = 0;
  }
  afterEach(() => {
    socket.close();
    vi.useRealTimers();
  });

  /** The worker publishes `bytes` of output; the browser gets it as one frame. */
  async function output(bytes: number): Promise<void> {
    offset += bytes;
    await bus.publishOutput(SESSION, 1 + socket.received.length, offset - bytes, [
      Buffer.alloc(bytes, 'x'),
    ]);
    await nextTurn();
  }
  const rendered = () => socket.received.reduce((sum, frame) => sum + frame.length, 0);
  const acksForwarded = () => toWorker.filter((m) => m.type === 'ack');

  it('passes small acks on together, a moment after the browser has caught up', async () => {
    await open(1024 * 1024);
    for (let i = 0; i < 3; i++) {
      await output(10);
      socket.ack(rendered());
      await nextTurn();
    }
    expect(acksForwarded()).toEqual([]);
    vi.advanceTimersByTime(20);
    await nextTurn();
    expect(acksForwarded()).toEqual([expect.objectContaining({ offset: 30 })]);
    // Nothing new rendered: nothing more to say.
    vi.advanceTimersByTime(100);
    await nextTurn();
    expect(acksForwarded()).toHaveLength(1);
  });

  const offsetsForwarded = () => acksForwarded().map((m) => (m.type === 'ack' ? m.offset : 0));

  it('passes an ack on at once when it completes a quarter of the flow window', async () => {
    await open(1024 * 1024); // steps of 256 KiB
    for (let i = 0; i < 4; i++) await output(100_000);
    socket.ack(200_000); // not caught up, and short of a step
    await nextTurn();
    expect(acksForwarded()).toEqual([]);
    socket.ack(300_000); // a step past nothing forwarded yet
    await nextTurn();
    expect(offsetsForwarded()).toEqual([300_000]);
    socket.ack(rendered()); // caught up, 100,000 past the last one passed on: soon, not now
    await nextTurn();
    expect(acksForwarded()).toHaveLength(1);
    vi.advanceTimersByTime(20);
    await nextTurn();
    expect(offsetsForwarded()).toEqual([300_000, 400_000]);
  });

  it('passes acks on at least every 64 KiB, however small the flow window', async () => {
    await open(64 * 1024);
    await output(40_000);
    socket.ack(rendered());
    await output(40_000);
    await output(40_000);
    socket.ack(60_000); // not caught up, and short of 64 KiB
    await nextTurn();
    expect(acksForwarded()).toEqual([]);
    socket.ack(80_000); // past 64 KiB
    await nextTurn();
    expect(offsetsForwarded()).toEqual([80_000]);
  });

  /** A viewer's socket joins the session from a share link, and is shown an empty screen. */
  async function join(flowWindowBytes: number): Promise<void> {
    const attachment = attachmentOf(socket, bus, flowWindowBytes, VIEWER);
    toWorker = [];
    await bus.listenInput(SESSION, (msg) => toWorker.push(msg));
    await attachment.watch();
    await attachment.attach();
    const { attachId } = attachment;
    await bus.publish(SESSION, {
      type: 'snapshot',
      attachId,
      seq: 0,
      offset: 0,
      cols: 80,
      rows: 24,
      data: '',
    });
    await nextTurn();
    expect(toWorker).toEqual([expect.objectContaining({ type: 'attach', attachId })]);
    toWorker.length = 0;
    offset = 0;
  }

  it("passes a viewer's acks on in steps, and a second after it caught up", async () => {
    await join(1024 * 1024); // steps of 256 KiB
    for (let i = 0; i < 3; i++) {
      await output(10);
      socket.ack(rendered());
      await nextTurn();
    }
    // No shell waits for a viewer: not the owner's 20 ms.
    vi.advanceTimersByTime(100);
    await nextTurn();
    expect(acksForwarded()).toEqual([]);
    await output(300_000);
    socket.ack(rendered());
    await nextTurn();
    expect(offsetsForwarded()).toEqual([300_030]);
    await output(10);
    socket.ack(rendered());
    vi.advanceTimersByTime(999);
    await nextTurn();
    expect(offsetsForwarded()).toEqual([300_030]);
    vi.advanceTimersByTime(1);
    await nextTurn();
    expect(offsetsForwarded()).toEqual([300_030, 300_040]);
  });

  it('passes on what a viewer has rendered as soon as it is given control', async () => {
    await join(1024 * 1024);
    await output(10);
    socket.ack(rendered());
    vi.advanceTimersByTime(100);
    await nextTurn();
    expect(acksForwarded()).toEqual([]);
    await bus.publish(SESSION, {
      type: 'participants',
      participants: [{ userId: 'u2', username: 'bob', role: 'control', attachments: 1 }],
    });
    await nextTurn();
    expect(socket.control).toContainEqual({ type: 'role', role: 'control' });
    expect(offsetsForwarded()).toEqual([10]);
    // From now on, as the owner's: caught up, the rest follows a moment later.
    await output(20);
    socket.ack(rendered());
    vi.advanceTimersByTime(20);
    await nextTurn();
    expect(offsetsForwarded()).toEqual([10, 30]);
  });

  it('passes nothing on once the socket has closed', async () => {
    await open(1024 * 1024);
    await output(10);
    socket.ack(rendered());
    socket.close();
    vi.advanceTimersByTime(20);
    await nextTurn();
    expect(acksForwarded()).toEqual([]);
  });
});

describe('Attachment: the bus subscription', () => {
  it('is dropped when the browser leaves while it is being made', async () => {
    const bus = new SessionBus(createMemoryTransport());
    // The real subscription, slow to be made (as a round trip to Redis can be, longer than the
    // socket takes to close), and counted as it ends.
    const subscribe = bus.watch.bind(bus);
    let ended = 0;
    vi.spyOn(bus, 'watch').mockImplementation(async (sessionId, onMessage) => {
      const unsubscribe = await subscribe(sessionId, onMessage);
      await new Promise((resolve) => setTimeout(resolve, 50));
      return async () => {
        ended += 1;
        await unsubscribe();
      };
    });
    const socket = new BrowserSocket();
    const attachment = attachmentOf(socket, bus, 1024 * 1024);
    const watching = attachment.watch();
    socket.close();
    await watching;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toBe(1);
  });
});
