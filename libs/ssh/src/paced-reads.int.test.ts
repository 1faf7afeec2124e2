import { createHash } from 'node:crypto';
import ssh2, { type Client, type ClientChannel } from 'ssh2';
import { describe, expect, inject, it } from 'vitest';
import { pacedSocket } from './paced-reads.js';

// ssh2 over a paced socket, as the session worker connects, against the real sshd: bulk output
// through a PTY arrives whole, and the shell still answers a keystroke after it.

const sshd = inject('sshd');

function connect(): Promise<Client> {
  const client = new ssh2.Client();
  const socket = pacedSocket();
  socket.connect({ host: sshd.host, port: sshd.port });
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      sock: socket,
      username: sshd.user,
      password: sshd.password,
      hostVerifier: () => true,
    });
  });
}

function shell(client: Client): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.shell({ term: 'dumb', cols: 80, rows: 24 }, (err, channel) =>
      err ? reject(err) : resolve(channel),
    ),
  );
}

/** Output from now until `marker` has been seen; resolves with all of it. */
function outputUntil(channel: ClientChannel, marker: string): Promise<string> {
  let out = '';
  return new Promise((resolve) => {
    const onData = (data: Buffer): void => {
      out += data.toString('latin1');
      if (!out.includes(marker)) return;
      channel.off('data', onData);
      resolve(out);
    };
    channel.on('data', onData);
  });
}

describe('an SSH connection over a paced socket', () => {
  it('delivers bulk PTY output whole, then answers the next keystroke', async () => {
    const client = await connect();
    try {
      const channel = await shell(client);
      // 3.4 MB of numbered lines, then their checksum as the shell computes it. Each marker is
      // made by the shell, so the echo of the typed command does not already contain it.
      const done = outputUntil(channel, 'END-OF-4');
      channel.write('seq 1 500000; seq 1 500000 | sha256sum; echo END-OF-$((2+2))\n');
      const output = (await done).replace(/\r\n/g, '\n');

      const lines = output.split('\n');
      const first = lines.indexOf('1');
      const printed = lines.slice(first, first + 500_000).join('\n') + '\n';
      const theirs = lines[first + 500_000]!.split(' ')[0];
      expect(createHash('sha256').update(printed).digest('hex')).toBe(theirs);

      const answered = outputUntil(channel, 'still-4');
      channel.write('echo still-$((2+2))\n');
      expect(await answered).toContain('still-4');
    } finally {
      client.end();
    }
  });
});
