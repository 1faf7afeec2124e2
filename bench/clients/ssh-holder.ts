// A child process that holds idle direct ssh2 shells, so that the memory a plain ssh2 client
// spends per session can be read from /proc like a session worker's. Driven over IPC by
// scenarios/idle-memory.ts: {open: n, concurrency} → {opened}, {close: true} → {closed}.
import { openDirect, type SshTarget } from './direct-ssh.js';
import { fillHistory, type BenchTerminal } from './terminal.js';
import { runPool } from '../util.js';

export type HolderRequest =
  { open: number; concurrency: number; fillLines: number } | { close: true };
export type HolderReply = { opened: number } | { closed: number } | { error: string };

const target = JSON.parse(process.argv[2] ?? '{}') as SshTarget;
const held: BenchTerminal[] = [];

function reply(message: HolderReply): void {
  process.send?.(message);
}

process.on('message', (request: HolderRequest) => {
  void handle(request).then(reply, (err: unknown) => reply({ error: String(err) }));
});
// The parent going away (IPC closed) ends us, sessions and all.
process.on('disconnect', () => process.exit(0));

async function handle(request: HolderRequest): Promise<HolderReply> {
  if ('open' in request) {
    await runPool(request.open, request.concurrency, async () => {
      const terminal = await openDirect(target);
      held.push(terminal);
      await fillHistory(terminal, request.fillLines);
    });
    return { opened: held.length };
  }
  const all = held.splice(0);
  await runPool(all.length, 32, (i) => all[i]!.close());
  return { closed: all.length };
}
