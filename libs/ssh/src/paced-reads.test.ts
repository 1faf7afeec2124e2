import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pacedSocket } from './paced-reads.js';

// A real loopback connection in this process: the writer sends one chunk per event-loop turn,
// as a shell printing flat out reaches the worker, so a reader that keeps up reads every chunk
// on its own.

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** Connects `socket` to a server that hands each connection to `write`. */
async function connected(socket: Socket, write: (peer: Socket) => void): Promise<void> {
  server = createServer(write);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect({ host: '127.0.0.1', port }, resolve);
  });
}

/** Writes `count` chunks of `size` bytes, one per turn of the event loop, then ends. */
function streamChunks(count: number, size: number) {
  return (peer: Socket): void => {
    let sent = 0;
    const next = (): void => {
      if (sent === count) return void peer.end();
      peer.write(Buffer.alloc(size, sent % 256));
      sent += 1;
      setImmediate(next);
    };
    next();
  };
}

/** Reads until the writer ends: every byte, and how many reads delivered them. */
function readAll(socket: Socket): Promise<{ data: Buffer; reads: number }> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) =>
    socket.once('end', () => resolve({ data: Buffer.concat(chunks), reads: chunks.length })),
  );
}

const expected = (count: number, size: number) =>
  Buffer.concat(Array.from({ length: count }, (_, i) => Buffer.alloc(size, i % 256)));

describe('pacedSocket', () => {
  it('reads a fast stream whole and in order, in a fraction of the reads, none while held', async () => {
    const plain = new Socket();
    await connected(plain, streamChunks(2000, 1024));
    const plainRead = await readAll(plain);
    server?.close();

    const paced = pacedSocket();
    // Reads the socket made while held wait in its buffer and come out as soon as it resumes,
    // before anything else runs. It stops after the one in hand; had it gone on reading, there
    // would be a read per chunk written meanwhile.
    let holds = 0;
    let readsWhileHeld = 0;
    let resuming = false;
    paced.on('pause', () => (holds += 1));
    paced.on('resume', () => {
      resuming = true;
      queueMicrotask(() => (resuming = false));
    });
    paced.on('data', () => (readsWhileHeld += resuming ? 1 : 0));
    await connected(paced, streamChunks(2000, 1024));
    const pacedRead = await readAll(paced);

    expect(plainRead.data.equals(expected(2000, 1024))).toBe(true);
    expect(pacedRead.data.equals(expected(2000, 1024))).toBe(true);
    expect(pacedRead.reads).toBeLessThan(plainRead.reads / 4);
    expect(holds).toBeGreaterThan(0);
    expect(readsWhileHeld).toBeLessThanOrEqual(holds);
  });

  it('reads occasional small writes as they come, never holding the socket', async () => {
    const { socket, peer, holds } = await pacedWithPeer();
    let reads = 0;
    socket.on('data', () => (reads += 1));
    for (let i = 0; i < 10; i++) {
      peer.write('a keystroke echo');
      await until(() => reads === i + 1);
    }
    // A hold would have begun once the poll phase of the last read was done.
    await new Promise((resolve) => setImmediate(resolve));
    expect(holds()).toBe(0);
    peer.end();
  });

  it('holds a busy socket, then resumes it by itself', async () => {
    const { socket, peer, holds } = await pacedWithPeer();
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    peer.write(Buffer.alloc(64 * 1024));
    await until(() => holds() > 0);
    peer.write('the prompt after it');
    await until(() => received === 64 * 1024 + 'the prompt after it'.length);
    expect(socket.isPaused()).toBe(false);
    peer.end();
  });
});

/** A paced socket connected to a peer the test writes through, and how often it has held. */
async function pacedWithPeer(): Promise<{ socket: Socket; peer: Socket; holds: () => number }> {
  const socket = pacedSocket();
  let holds = 0;
  socket.on('pause', () => (holds += 1));
  let peer: Socket | undefined;
  await connected(socket, (p) => (peer = p));
  await until(() => peer !== undefined);
  return { socket, peer: peer!, holds: () => holds };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}
