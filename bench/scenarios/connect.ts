// Open → first prompt byte: from creating the WebSocket (Sallyport) or calling connect (ssh2)
// to the first terminal byte, which with the test user's quiet login is the prompt. It covers
// everything a user waits for: the upgrade, placement on a worker, SSH handshake and login.
import type { Contender } from '../env/deployments.js';

export interface ConnectResult {
  firstByteMs: number[];
}

export async function measureConnect(
  contender: Contender,
  samples: number,
): Promise<ConnectResult> {
  const firstByteMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const terminal = await contender.opener.open();
    firstByteMs.push(terminal.timing.firstByteAt - terminal.timing.startedAt);
    await terminal.close();
    // Let the previous session's teardown (sshd, worker, database) finish before the next.
    await new Promise((r) => setTimeout(r, 100));
  }
  return { firstByteMs };
}
