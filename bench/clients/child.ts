// A bench client in a process of its own, driven over IPC one request at a time. Browsers are
// processes of their own: a client that shares the bench's heap shares its garbage collections
// too (the bench holds every sample of the run), and its lag and CPU would be the bench's.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '../util.js';

export interface ChildClient<Request, Reply> {
  /** Sends `request` and waits for its reply; a reply `{ error }` rejects. */
  ask(request: Request, ms: number, what: string): Promise<Exclude<Reply, { error: string }>>;
  stop(): Promise<void>;
}

/**
 * Room for the old generation to grow between full collections, as the services that stream
 * keep (libs/runtime heap.ts): a browser's received frames live outside the JS heap, and V8
 * counts them against the old generation's budget. With V8's own factor the fan-out's browsers
 * (50 MB/s of frames) marked and compacted their ~15 MB heap every 0.4 s, pausing 4 ms (median)
 * and up to 27 each time, and every line then in flight counted the pause as delivery lag. With
 * 400% they collected the whole heap only while they started.
 */
const HEAP_GROWING_PERCENT = 400;

/** Starts `module` (a path relative to bench/clients/) under tsx, as the bench itself runs. */
export async function startChild<Request, Reply extends object>(
  module: string,
): Promise<ChildClient<Request, Reply>> {
  const entry = fileURLToPath(new URL(module, import.meta.url));
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx', `--heap-growing-percent=${HEAP_GROWING_PERCENT}`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let running = true;
  let lastId = 0;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running = false;
      resolve();
    }),
  );
  try {
    await loaded(child, module);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    ask: async (request, ms, what) => {
      if (!running) throw new Error(`${what}: the client process has exited`);
      // Numbered, so that a reply that comes after its deadline is not taken for the next one's.
      const id = ++lastId;
      let onExit = (): void => undefined;
      let onMessage = (_message: Envelope<Reply>): void => undefined;
      try {
        const reply = await withDeadline(
          new Promise<Reply>((resolve, reject) => {
            onExit = () => reject(new Error(`${what}: the client process exited`));
            onMessage = (message) => {
              if (message.id === id) resolve(message.body);
            };
            child.once('exit', onExit);
            child.on('message', onMessage);
            // With a callback, a closed channel rejects here instead of emitting 'error'.
            child.send({ id, body: request } satisfies Envelope<Request>, (err) => {
              if (err) reject(err);
            });
          }),
          ms,
          what,
        );
        if ('error' in reply) throw new Error(`${what}: ${String(reply.error)}`);
        return reply as Exclude<Reply, { error: string }>;
      } finally {
        child.off('exit', onExit);
        child.off('message', onMessage);
      }
    },
    stop: async () => {
      child.kill('SIGTERM');
      await withDeadline(exited, 10_000, 'the client process to exit').catch(() =>
        child.kill('SIGKILL'),
      );
    },
  };
}

/** What a child sends once it is loaded and listening. */
const READY = 'ready';

/**
 * Waits until the child is loaded, not only spawned: tsx compiling a client takes a core for
 * about a second, which the caller's wait for a quiet machine would otherwise take for other work.
 */
async function loaded(child: ChildProcess, module: string): Promise<void> {
  let onMessage = (_message: unknown): void => undefined;
  let onError = (_err: Error): void => undefined;
  let onExit = (_code: number | null, _signal: NodeJS.Signals | null): void => undefined;
  try {
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        onMessage = (message) => {
          if (message === READY) resolve();
        };
        onError = reject;
        onExit = (code, signal) =>
          reject(new Error(`${module} exited (${code ?? signal}) while loading`));
        child.on('message', onMessage);
        child.once('error', onError);
        child.once('exit', onExit);
      }),
      60_000,
      `${module} to load`,
    );
  } finally {
    child.off('message', onMessage);
    child.off('error', onError);
    child.off('exit', onExit);
  }
}

/** A request or its reply, with the request's number. */
interface Envelope<T> {
  id: number;
  body: T;
}

/** The child's side: answers each request with `handle`'s result, or `{ error }`. */
export function serveRequests<Request>(handle: (request: Request) => Promise<object>): void {
  process.on('message', ({ id, body }: Envelope<Request>) => {
    handle(body).then(
      (reply) => process.send?.({ id, body: reply }),
      (err: unknown) => process.send?.({ id, body: { error: String(err) } }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.(READY);
}
