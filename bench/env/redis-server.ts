// A private redis-server for one benchmark run. The shared test Redis may be serving other test
// runs at the same time, and its CPU would then be charged to Sallyport; a private server on a
// free loopback port carries only the benchmark's traffic, and its pid is ours to sample.
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from '../../tests/harness/processes.js';

export interface RedisServer {
  url: string;
  pid: number;
  /** Calls of one command since start (INFO commandstats), e.g. "publish". */
  commandCalls(command: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    // No persistence and no protected-mode surprises: a throw-away server on loopback.
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  let spawnError: Error | undefined;
  proc.once('error', (err) => (spawnError = err));
  proc.stdout.on('data', (d: Buffer) => logs.push(d.toString()));
  proc.stderr.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.once('exit', () => proc.kill('SIGKILL'));
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // start-up polling sees refusals; they are expected
  try {
    await waitFor(
      async () => {
        if (spawnError) throw new Error(`could not run redis-server: ${spawnError.message}`);
        if (proc.exitCode !== null) throw new Error(`redis-server exited: ${logs.join('')}`);
        if (client.status === 'wait' || client.status === 'end') await client.connect();
        return (await client.ping()) === 'PONG';
      },
      { timeoutMs: 10_000, description: `redis-server on port ${port}` },
    );
  } catch (err) {
    proc.kill('SIGKILL');
    client.disconnect();
    throw err;
  }
  if (proc.pid === undefined) throw new Error('redis-server has no pid');
  const pid = proc.pid;
  let stopping: Promise<void> | undefined;
  return {
    url,
    pid,
    async commandCalls(command) {
      const info = await client.info('commandstats');
      const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
      return match ? Number(match[1]) : 0;
    },
    stop() {
      stopping ??= (async () => {
        client.disconnect();
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
