import { connect as connectTcp, type Socket } from 'node:net';
import ssh2, { type Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type SshdHandle } from '../../../tests/harness/sshd.js';
import { oneSessionOnly } from './one-session.js';

let sshd: SshdHandle;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(() => sshd.stop());

type Login = 'password' | 'key';

/**
 * A connection on a socket of our own, as the workers make it. `events` records each piece of
 * data from the server ('data', seen before ssh2 reads it) and each no-more-sessions we send.
 */
function connect(login: Login): Promise<{ client: Client; socket: Socket; events: string[] }> {
  const client = new ssh2.Client();
  const socket = connectTcp(sshd.port, sshd.host);
  const events: string[] = [];
  socket.on('data', () => events.push('data'));
  const noMore = client.openssh_noMoreSessions.bind(client);
  client.openssh_noMoreSessions = (...args) => {
    events.push('no-more-sessions');
    return noMore(...args);
  };
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve({ client, socket, events }));
    client.once('error', reject);
    client.connect({
      sock: socket,
      username: sshd.user,
      ...(login === 'password' ? { password: sshd.password } : { privateKey: sshd.privateKey }),
      hostVerifier: () => true,
    });
  });
}

/**
 * Runs a command on a session channel of its own. `asking` is called as the workers call
 * oneSessionOnly: just before the channel is asked for, and what it returns once it is open.
 */
function run(client: Client, command: string, asking?: () => () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const opened = asking?.();
    client.exec(command, (err, channel) => {
      opened?.();
      if (err) return reject(err);
      let out = '';
      channel.on('data', (data: Buffer) => (out += data.toString()));
      channel.on('close', () => resolve(out));
    });
  });
}

describe('oneSessionOnly', () => {
  it.each<Login>(['password', 'key'])(
    'keeps the session it follows working and refuses any other (%s login)',
    async (login) => {
      const { client, socket } = await connect(login);
      try {
        const first = run(client, 'echo first-session', () => oneSessionOnly(client, socket));
        expect(await first).toBe('first-session\n');
        await expect(run(client, 'echo second-session')).rejects.toThrow();
      } finally {
        client.end();
      }
    },
  );

  it('leaves a connection without it free to open more sessions', async () => {
    const { client } = await connect('password');
    try {
      expect(await run(client, 'echo first-session')).toBe('first-session\n');
      expect(await run(client, 'echo second-session')).toBe('second-session\n');
    } finally {
      client.end();
    }
  });

  // Until the shell starts OpenSSH holds each packet until the one before it is acknowledged,
  // and a client with nothing to send delays its acknowledgement by 40 ms. What it sends while
  // the channel opens includes its host keys and, after a key login, debug messages.
  it.each<Login>(['password', 'key'])(
    'answers everything the server sends while the channel opens (%s login)',
    async (login) => {
      const { client, socket, events } = await connect(login);
      try {
        await run(client, 'true', () => {
          events.push('asked');
          const opened = oneSessionOnly(client, socket);
          return () => {
            opened();
            events.push('opened');
          };
        });
        const opening = events.slice(events.indexOf('asked') + 1, events.indexOf('opened'));
        // Each piece of data answered before the next, but the one that brought the start.
        const seen = opening.map((event) => (event === 'data' ? 'D' : 'A')).join('');
        expect(seen).toMatch(/^(DA)*D$/);
      } finally {
        client.end();
      }
    },
  );

  it('stops answering once the channel is open', async () => {
    const { client, socket, events } = await connect('password');
    const answers = () => events.filter((event) => event === 'no-more-sessions').length;
    try {
      let whileOpening = 0;
      await run(client, 'echo first-session', () => {
        const opened = oneSessionOnly(client, socket);
        return () => {
          opened();
          whileOpening = answers();
        };
      });
      expect(whileOpening).toBeGreaterThan(0);
      // The first session's output and end, and the refusal of a second one, get no answer.
      await expect(run(client, 'true')).rejects.toThrow();
      expect(answers()).toBe(whileOpening);
    } finally {
      client.end();
    }
  });
});
