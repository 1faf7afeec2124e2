// Helpers for end-to-end tests that run the built services as real child processes.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface WaitForOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 50 ms. */
  intervalMs?: number;
  /** Names the condition in the timeout error. */
  description?: string;
}

/**
 * Polls `fn` until it returns a value other than false/null/undefined without throwing, and
 * returns that value. Used instead of fixed sleeps; the timeout error carries the last error.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<Exclude<T, false>>> {
  const { timeoutMs = 10_000, intervalMs = 50, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== false && value !== null && value !== undefined) {
        return value as NonNullable<Exclude<T, false>>;
      }
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${why}`, {
        cause: lastError,
      });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1, picked at random below the ports the kernel
 * gives outgoing connections. Another process can still take it before the caller binds it, so
 * callers that can detect "address in use" should retry.
 */
export async function freePort(): Promise<number> {
  // A port from the kernel's range for outgoing connections could be taken as the local port of
  // any connection a test makes before the service listens on it (EADDRINUSE at start-up).
  const below = await ephemeralPortsStart();
  if (below > 10_000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = randomInt(10_000, below);
      if ((await listenOnce(port)) !== undefined) return port;
    }
  }
  const port = await listenOnce(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** The first port the kernel hands to outgoing connections (Linux), or 0 if it cannot be read. */
async function ephemeralPortsStart(): Promise<number> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  return Number(range.trim().split(/\s+/)[0]) || 0;
}

/** Listens on `port` of 127.0.0.1 and closes again; the port it had, or undefined if taken. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/** Starts `server` listening on a free port of 127.0.0.1; resolves with the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/**
 * A listener on 127.0.0.1 that keeps every socket it accepts, to count them and watch them
 * close; given `relayTo`, it relays each connection there (a relay in front of a server).
 */
export async function tcpListener(relayTo?: { host: string; port: number }) {
  const accepted: Socket[] = [];
  const server = createServer((client) => {
    accepted.push(client);
    if (!relayTo) return;
    const upstream = connect(relayTo.port, relayTo.host);
    client.pipe(upstream).pipe(client);
    for (const socket of [client, upstream])
      socket.on('error', () => undefined).on('close', () => (client.destroy(), upstream.destroy()));
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    accepted,
    close: () => {
      for (const socket of accepted) socket.destroy();
      server.close();
    },
  };
}

/** Resolves true when something accepts a TCP connection on host:port, false otherwise. */
export async function portAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs a command to completion and returns its stdout; rejects with the command line and its
 * stderr if it exits non-zero, so a failing setup step says what failed.
 */
export async function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const line = [command, ...args].join(' ');
        reject(new Error(`\`${line}\` failed: ${stderr.trim() || err.message}`, { cause: err }));
      } else {
        resolve(stdout);
      }
    });
    // A command may exit without reading its input; EPIPE then is not an error of ours.
    child.stdin?.on('error', () => undefined);
    if (input === undefined) child.stdin?.end();
    else child.stdin?.end(input);
  });
}

export interface SpawnServiceOptions {
  /** The port the service listens on; sets `url` and makes the spawn wait until it accepts. */
  port?: number;
  /** A log line to wait for before resolving (e.g. /"msg":"listening"/). */
  readyLog?: RegExp;
  /** How long to wait for readiness. Default 30 000 ms. */
  readyTimeoutMs?: number;
  /** Working directory. Default the current one (the repo root under vitest). */
  cwd?: string;
  /**
   * A command that runs node for us, e.g. `unshare -m … sh -c '…; exec "$@"'`: node and its
   * arguments are appended. The process must exec node, so `proc.pid` is node's.
   */
  wrap?: string[];
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceHandle {
  name: string;
  proc: ChildProcess;
  /** http://127.0.0.1:<port> when a port was given. */
  url?: string;
  /** Settles when the process has exited. */
  exited: Promise<ExitStatus>;
  /** Resolves with the first line (past or future) matching `pattern`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Everything the process wrote to stdout and stderr so far, line by line. */
  logs(): string;
  /** The lines that parse as JSON objects (pino's output). */
  jsonLogs(): Record<string, unknown>[];
  /** SIGTERM, then wait for exit (SIGKILL after `graceMs`, default 10 000). Idempotent. */
  stop(graceMs?: number): Promise<ExitStatus>;
  /** Sends a signal (default SIGKILL) without waiting; await `exited` to wait. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * glibc's allocator settings, as `npm start` and the README's "Running distributed" give them
 * to every service: freed memory at the top of the heap is kept up to 64 MiB instead of going
 * back to the kernel past 128 KiB, so a stream's 64 KiB buffers land on pages already mapped
 * (docs/performance.md, SFTP download). Setting one stops glibc from raising its mmap threshold
 * as it goes, so that is fixed at the 32 MiB it can reach. Every thread allocates from the one
 * arena: memory freed in other threads' arenas would stay there, up to 64 MiB in each (an
 * sftp-worker's held 89 MB after its first transfers; docs/performance.md, SFTP). Other C
 * libraries ignore them.
 */
export const MALLOC_TUNABLES =
  'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864:glibc.malloc.arena_max=1';

const running = new Set<ChildProcess>();
// A test process that dies without stopping its services must not leave them behind.
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/**
 * Starts `node <entry>` (a built `dist/*.js`, or a `.ts` file run through tsx) with only the
 * given env on top of PATH/HOME and the allocator settings it is deployed with, so a service
 * sees exactly the configuration the test chose and nothing leaked from vitest's own
 * environment.
 */
export async function spawnService(
  name: string,
  entry: string,
  env: Record<string, string>,
  options: SpawnServiceOptions = {},
): Promise<ServiceHandle> {
  const base: Record<string, string> = { GLIBC_TUNABLES: MALLOC_TUNABLES };
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
  const [command, ...commandArgs] = [...(options.wrap ?? []), process.execPath, ...args];
  const proc = spawn(command!, commandArgs, {
    cwd: options.cwd ?? process.cwd(),
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);

  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const onLine = (line: string): void => {
    lines.push(line);
    for (const waiter of waiters) {
      if (waiter.pattern.test(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      parts.forEach(onLine);
    });
    stream.on('end', () => partial && onLine(partial));
  }

  const exited = new Promise<ExitStatus>((resolve) => {
    // 'close' rather than 'exit': it comes after stdout/stderr are drained, so logs are complete.
    proc.once('close', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
  });
  const hasExited = (): boolean => proc.exitCode !== null || proc.signalCode !== null;
  const logs = (): string => lines.join('\n');

  const waitForLog = (pattern: RegExp, timeoutMs = 10_000): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      let done = false;
      const finish = (action: () => void): void => {
        if (done) return;
        done = true;
        waiters.delete(waiter);
        clearTimeout(timer);
        action();
      };
      const fail = (why: string): void =>
        finish(() => reject(new Error(`${name}: ${why} waiting for ${pattern}\n${logs()}`)));
      const waiter = { pattern, resolve: (line: string) => finish(() => resolve(line)) };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      // Give up at once if the process is gone: the line can no longer come.
      void exited.then((s) => fail(`exited (code ${s.code}, signal ${s.signal})`));
      waiters.add(waiter);
    });
  };

  let stopping: Promise<ExitStatus> | undefined;
  const handle: ServiceHandle = {
    name,
    proc,
    exited,
    waitForLog,
    logs,
    jsonLogs: () => lines.flatMap((line) => parseJsonObject(line)),
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (!hasExited()) proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
    kill(signal = 'SIGKILL') {
      if (!hasExited()) proc.kill(signal);
    },
  };
  if (options.port !== undefined) handle.url = `http://127.0.0.1:${options.port}`;

  try {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    if (options.readyLog) await waitForLog(options.readyLog, timeoutMs);
    const port = options.port;
    if (port !== undefined) {
      await waitFor(
        async () => {
          if (hasExited()) throw new Error(`${name} exited before listening\n${logs()}`);
          return portAccepts(port);
        },
        { timeoutMs, description: `${name} to listen on ${port}` },
      );
    }
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

function parseJsonObject(line: string): Record<string, unknown>[] {
  if (!line.startsWith('{')) return [];
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
  } catch {
    return [];
  }
}
