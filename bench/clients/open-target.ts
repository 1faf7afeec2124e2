// What a bench client in a process of its own is told to connect to, over IPC (a contender
// cannot be sent): the direct baseline's sshd, or Sallyport's gateways.
import { openDirect, type SshTarget } from './direct-ssh.js';
import { openSallyport, type SallyportTarget } from './sallyport.js';
import type { BenchTerminal } from './terminal.js';

export interface TerminalTarget {
  ssh?: SshTarget;
  sallyport?: SallyportTarget;
}

/** Opens a terminal on `target`; `gateway` picks a Sallyport gateway (a direct one has none). */
export function openTarget(
  target: TerminalTarget,
  options: { gateway?: number } = {},
): Promise<BenchTerminal> {
  if (target.sallyport) return openSallyport(target.sallyport, options);
  if (target.ssh) return openDirect(target.ssh);
  throw new Error('the target names neither an sshd nor a Sallyport');
}
