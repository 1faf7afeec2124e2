// The baseline: a shell over a direct ssh2 connection to the same sshd, with the options the
// session worker uses (same library, same PTY request, keepalive on), so the difference between
// this and Sallyport is exactly what Sallyport adds.
import { connect } from 'node:net';
import ssh2, { type ClientChannel } from 'ssh2';
import { oneSessionOnly } from '@sallyport/ssh';
import type { SshdInfo } from '../../tests/harness/sshd.js';
import { PROMPT, type BenchTerminal, type OpenTiming, type TerminalOpener } from './terminal.js';

/** Logs in with `privateKey` when given, with the password otherwise. */
export type SshTarget = Pick<SshdInfo, 'host' | 'port' | 'user' | 'password'> & {
  privateKey?: string;
};

const CONNECT_TIMEOUT_MS = 15_000;

export function directOpener(target: SshTarget): TerminalOpener {
  return { open: (options = {}) => openDirect(target, options) };
}

/** Connects, authenticates, opens a shell, and resolves at the first prompt. */
export function openDirect(
  target: SshTarget,
  options: { cols?: number; rows?: number } = {},
): Promise<BenchTerminal> {
  const startedAt = performance.now();
  const client = new ssh2.Client();
  // Made here, not by ssh2, as the session worker makes it: oneSessionOnly needs it.
  const socket = connect(target.port, target.host);
  const phases: Record<string, number> = {};
  return new Promise<BenchTerminal>((resolve, reject) => {
    const fail = (err: Error): void => {
      client.end();
      reject(err);
    };
    client.once('error', fail);
    client.once('ready', () => {
      phases.authenticated = performance.now();
      const shellOpened = oneSessionOnly(client, socket); // as the session worker does
      client.shell(
        { term: 'xterm-256color', cols: options.cols ?? 80, rows: options.rows ?? 24 },
        (err, channel) => {
          shellOpened();
          if (err) return fail(err);
          phases.shell = performance.now();
          client.removeListener('error', fail);
          client.on('error', () => undefined); // a later error shows as the channel closing
          waitForPrompt(channel, startedAt).then(
            (firstByteAt) =>
              resolve(new DirectTerminal(client, channel, { startedAt, firstByteAt, phases })),
            fail,
          );
        },
      );
    });
    client.connect({
      sock: socket,
      username: target.user,
      ...(target.privateKey ? { privateKey: target.privateKey } : { password: target.password }),
      readyTimeout: CONNECT_TIMEOUT_MS,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      tryKeyboard: false,
      // The bench's own sshd, on loopback: its key is not what is measured.
      hostVerifier: () => true,
    });
    client.setNoDelay(true); // as the session worker does, from the first packet
  });
}

function waitForPrompt(channel: ClientChannel, startedAt: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let firstByteAt = 0;
    let seen = Buffer.alloc(0);
    const timer = setTimeout(
      () => {
        channel.removeListener('data', onData);
        reject(new Error(`no prompt within ${CONNECT_TIMEOUT_MS} ms of connecting`));
      },
      CONNECT_TIMEOUT_MS - (performance.now() - startedAt),
    );
    const onData = (data: Buffer): void => {
      firstByteAt ||= performance.now();
      seen = Buffer.concat([seen, data]);
      if (seen.includes(PROMPT)) {
        clearTimeout(timer);
        channel.removeListener('data', onData);
        resolve(firstByteAt);
      }
    };
    channel.on('data', onData);
  });
}

class DirectTerminal implements BenchTerminal {
  readonly received = { frames: 0, bytes: 0 };
  private listener: (chunk: Buffer) => void = () => undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly client: ssh2.Client,
    private readonly channel: ClientChannel,
    readonly timing: OpenTiming,
  ) {
    const deliver = (data: Buffer): void => {
      this.received.frames += 1;
      this.received.bytes += data.length;
      this.listener(data);
    };
    channel.on('data', deliver);
    channel.stderr.on('data', deliver);
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
  }

  write(data: string | Buffer): void {
    this.channel.write(data);
  }

  onOutput(listener: (chunk: Buffer) => void): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    this.channel.end();
    this.client.end();
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 5_000))]);
  }
}
