// Open → first prompt byte: from creating the WebSocket (Sallyport) or calling connect (ssh2)
// to the first terminal byte, which with the test user's quiet login is the prompt. It covers
// everything a user waits for: the upgrade, placement on a worker, SSH handshake and login.
import type { TerminalOpener } from '../clients/terminal.js';

export interface ConnectResult {
  firstByteMs: number[];
  /** Per sample, each milestone's time since the start (ms): where the wait goes. */
  phases: Record<string, number>[];
}

export async function measureConnect(
  opener: TerminalOpener,
  samples: number,
): Promise<ConnectResult> {
  const firstByteMs: number[] = [];
  const phases: Record<string, number>[] = [];
  for (let i = 0; i < samples; i++) {
    const terminal = await opener.open();
    const { startedAt, firstByteAt } = terminal.timing;
    firstByteMs.push(firstByteAt - startedAt);
    phases.push(
      Object.fromEntries(
        Object.entries(terminal.timing.phases).map(([name, at]) => [name, at - startedAt]),
      ),
    );
    await terminal.close();
    // Let the previous session's teardown (sshd, worker, database) finish before the next.
    await new Promise((r) => setTimeout(r, 100));
  }
  return { firstByteMs, phases };
}
