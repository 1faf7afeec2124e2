// A private OpenSSH server per call, for tests that must talk to real sshd. It never reads or
// changes the system's /etc/ssh or its sshd service: config, keys, pid file and authorised keys
// all live in a temp directory that stop() removes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, waitFor } from './processes.js';
import { ensureTestUser } from './test-user.js';

export { ensureTestUser, TEST_USER } from './test-user.js';

const SSHD = '/usr/sbin/sshd'; // sshd re-executes itself, so it insists on an absolute path.

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface SshdOptions {
  /** Listen here instead of on a free port, e.g. a stopped sshd's port to fake a host-key change. */
  port?: number;
  /** Host key types to generate. Default ['ed25519']. Unused when hostKeyDir already has keys. */
  hostKeyTypes?: HostKeyType[];
  /**
   * Take the `ssh_host_*_key` files from this directory (generating them there if it has none)
   * instead of fresh ones; stop() leaves it alone, so a restarted sshd can keep its identity.
   */
  hostKeyDir?: string;
  /** Further public keys (OpenSSH one-line form) to authorise for the test user. */
  authorizedKeys?: string[];
  /** Extra sshd_config lines, which override the defaults, e.g. 'PasswordAuthentication no'. */
  extraConfig?: string[];
  /** How long to wait for the SSH banner. Default 15 000 ms. */
  startTimeoutMs?: number;
}

/** The serialisable part of a handle: what tests need to connect. */
export interface SshdInfo {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** An unencrypted ed25519 key (OpenSSH PEM) authorised for `user`. */
  privateKey: string;
  publicKey: string;
  /** A second authorised ed25519 key, encrypted with `passphrase`. */
  encryptedPrivateKey: string;
  encryptedPublicKey: string;
  passphrase: string;
  /** "SHA256:..." as `ssh-keygen -lf` prints them, one per host key. */
  hostKeyFingerprints: string[];
  /** The host public keys in OpenSSH one-line form ("ssh-ed25519 AAAA..."), for known_hosts. */
  hostPublicKeys: string[];
}

export interface SshdHandle extends SshdInfo {
  hostKeyDir: string;
  info(): SshdInfo;
  /** SIGTERM sshd and its sessions, wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL sshd and every session process (a crashed server), and wait for it to exit. */
  kill(): Promise<void>;
  /** What sshd logged (-e sends it to stderr), connection and auth lines included. */
  logs(): string;
  /** Logins sshd has accepted so far, by any method. */
  logins(): number;
  /** Connections whose client said goodbye before logging in (a login called off). */
  disconnectedBeforeLogin(): number;
}

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
// Never leave an sshd (or its sessions) behind when the test process exits without stop().
process.once('exit', () => {
  for (const proc of live) killTree(proc, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts a private sshd on 127.0.0.1 that accepts the test user and its keys. */
export async function startSshd(options: SshdOptions = {}): Promise<SshdHandle> {
  const { user, password } = await ensureTestUser();
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation dir
  const dir = await mkdtemp(join(tmpdir(), 'sallyport-sshd-'));
  tempDirs.add(dir);
  try {
    // sshd reads AuthorizedKeysFile as the user, so the directory must be traversable by it.
    await chmod(dir, 0o755);
    const hostKeyDir = options.hostKeyDir ?? join(dir, 'hostkeys');
    const [hostKeys, clientKeys] = await Promise.all([
      hostKeysIn(hostKeyDir, options.hostKeyTypes ?? ['ed25519']),
      makeClientKeys(join(dir, 'client')),
    ]);
    const authorized = [clientKeys.publicKey, clientKeys.encryptedPublicKey];
    await writeFile(
      join(dir, 'authorized_keys'),
      [...authorized, ...(options.authorizedKeys ?? [])].join('\n') + '\n',
      { mode: 0o644 },
    );

    // sshd keeps the first value it reads for a keyword, so the caller's lines come first.
    const config = (port: number): string[] => [
      ...(options.extraConfig ?? []),
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      ...hostKeys.paths.map((path) => `HostKey ${path}`),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `AllowUsers ${user}`,
      ...BASE_CONFIG,
    ];
    const started = await launch(dir, config, options);
    const info: SshdInfo = {
      host: '127.0.0.1',
      port: started.port,
      user,
      password,
      ...clientKeys,
      hostKeyFingerprints: hostKeys.fingerprints,
      hostPublicKeys: hostKeys.publicKeys,
    };
    return {
      ...info,
      hostKeyDir,
      info: () => ({ ...info }),
      ...lifecycle(started.proc, dir, started.logs),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
    throw err;
  }
}

const BASE_CONFIG = [
  'AddressFamily inet',
  'UsePAM no',
  'PasswordAuthentication yes',
  'KbdInteractiveAuthentication no',
  'PubkeyAuthentication yes',
  // The temp dir is group/world readable (see above), which StrictModes would reject.
  'StrictModes no',
  'PermitRootLogin no',
  // Many parallel test connections must not be dropped as a suspected flood.
  'MaxStartups 100:30:200',
  'MaxSessions 50',
  'LogLevel VERBOSE',
  'Subsystem sftp internal-sftp',
  'AllowTcpForwarding yes', // jump-host chains open direct-tcpip channels through this server
  'PrintMotd no',
  'PrintLastLog no',
  'UseDNS no',
];

// OpenSSH 9.8+ blocks a source address after repeated auth failures, which tests that try
// wrong passwords from 127.0.0.1 would trigger; older versions reject the keyword, so probe.
const PENALTIES_OFF = 'PerSourcePenalties no';
let penaltiesSupported: boolean | undefined;

async function launch(
  dir: string,
  config: (port: number) => string[],
  options: SshdOptions,
): Promise<{ proc: ChildProcess; port: number; logs: () => string }> {
  const configPath = join(dir, 'sshd_config');
  const header = '# Private sshd for Sallyport tests (tests/harness/sshd.ts).';
  const write = async (port: number): Promise<void> => {
    const extra = penaltiesSupported === false ? [] : [PENALTIES_OFF];
    await writeFile(configPath, [header, ...config(port), ...extra, ''].join('\n'));
  };
  await write(options.port ?? 22);
  try {
    await run(SSHD, ['-t', '-f', configPath]);
    penaltiesSupported ??= true;
  } catch (err) {
    if (!String(err).includes('PerSourcePenalties')) throw err;
    penaltiesSupported = false;
  }

  // A free port can be taken between freePort() and sshd's bind: then pick another.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    await write(port);
    const proc = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    const logs = captureLogs(proc);
    const outcome = await waitFor(
      async () =>
        proc.exitCode !== null || proc.signalCode !== null ? 'exited' : readBanner(port),
      { timeoutMs: options.startTimeoutMs ?? 15_000, description: `sshd banner on port ${port}` },
    ).catch((err: unknown): never => {
      killTree(proc, 'SIGKILL');
      throw new Error(`${String(err)}\n${logs()}`);
    });
    if (outcome !== 'exited') return { proc, port, logs };
    const inUse = /Address already in use|Cannot bind any address/.test(logs());
    if (!inUse || options.port !== undefined || attempt >= 5) {
      throw new Error(`sshd exited during start-up (port ${port}):\n${logs()}`);
    }
  }
}

/** Connects, reads the identification line ("SSH-2.0-OpenSSH_..."), and hangs up. */
function readBanner(port: number): Promise<string | false> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (value: string | false): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const line = data.split('\r\n')[0] ?? '';
      if (data.includes('\n')) done(line.startsWith('SSH-') ? line : false);
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function captureLogs(proc: ChildProcess): () => string {
  const chunks: string[] = [];
  let size = 0;
  const keep = (chunk: Buffer): void => {
    chunks.push(chunk.toString('utf8'));
    size += chunk.length;
    // The shared sshd lives for a whole run: keep the last ~2 MB, not everything.
    while (size > 2_000_000 && chunks.length > 1) size -= (chunks.shift() ?? '').length;
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return () => chunks.join('');
}

function lifecycle(proc: ChildProcess, dir: string, logs: () => string) {
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  let killing: Promise<void> | undefined;
  const count = (line: RegExp) => logs().match(line)?.length ?? 0;
  return {
    logs,
    logins: () => count(/^Accepted \S+ for /gm),
    disconnectedBeforeLogin: () => count(/^Disconnected from .* \[preauth\]$/gm),
    kill(): Promise<void> {
      killing ??= (() => {
        killTree(proc, 'SIGKILL');
        return exited;
      })();
      return killing;
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        const sessions = descendants(proc.pid);
        killTree(proc, 'SIGTERM');
        const timer = setTimeout(() => killTree(proc, 'SIGKILL', sessions), 5_000);
        await exited;
        clearTimeout(timer);
        // Sessions are re-parented once the listener is gone; finish any that linger.
        for (const pid of sessions) signal(pid, 'SIGKILL');
        await rm(dir, { recursive: true, force: true });
        tempDirs.delete(dir);
      })();
      return stopping;
    },
  };
}

/**
 * Signals sshd and all its descendants. sshd's per-connection children call setsid(), so a
 * process-group kill would miss them; walking /proc by parent pid finds them.
 */
function killTree(proc: ChildProcess, sig: NodeJS.Signals, extra: number[] = []): void {
  // Once sshd has exited its pid may belong to someone else: do not walk its "children".
  const gone = proc.exitCode !== null || proc.signalCode !== null;
  const pids = gone ? extra : [...descendants(proc.pid), ...extra];
  if (!gone) proc.kill(sig);
  for (const pid of pids) signal(pid, sig);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function descendants(root: number | undefined): number[] {
  if (root === undefined) return [];
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name (field 2) may itself contain ") ".
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

async function hostKeysIn(dir: string, types: HostKeyType[]) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = (await readdir(dir)).filter((f) => /^ssh_host_\w+_key$/.test(f));
  const names = existing.length > 0 ? existing : types.map((t) => `ssh_host_${t}_key`);
  if (existing.length === 0) {
    await Promise.all(
      types.map((t) =>
        run('ssh-keygen', [
          '-q',
          '-t',
          t,
          '-N',
          '',
          '-C',
          '',
          '-f',
          join(dir, `ssh_host_${t}_key`),
        ]),
      ),
    );
  }
  const paths = names.sort().map((name) => join(dir, name));
  const publicKeys = await Promise.all(
    paths.map(async (p) => (await readFile(`${p}.pub`, 'utf8')).trim()),
  );
  const fingerprints = await Promise.all(paths.map((p) => fingerprint(`${p}.pub`)));
  return { paths, publicKeys, fingerprints };
}

/** "SHA256:..." for a public key file, as `ssh-keygen -lf` prints it ("256 SHA256:x comment (ED25519)"). */
async function fingerprint(publicKeyPath: string): Promise<string> {
  const field = (await run('ssh-keygen', ['-lf', publicKeyPath])).split(' ')[1];
  if (!field?.startsWith('SHA256:'))
    throw new Error(`unexpected ssh-keygen -lf output for ${publicKeyPath}`);
  return field;
}

async function makeClientKeys(dir: string) {
  await mkdir(dir, { mode: 0o700 });
  const passphrase = randomBytes(12).toString('base64url');
  const make = async (name: string, pass: string): Promise<[string, string]> => {
    const path = join(dir, name);
    await run('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      pass,
      '-C',
      `${name}@sallyport-test`,
      '-f',
      path,
    ]);
    return [await readFile(path, 'utf8'), (await readFile(`${path}.pub`, 'utf8')).trim()];
  };
  const [[privateKey, publicKey], [encryptedPrivateKey, encryptedPublicKey]] = await Promise.all([
    make('id_plain', ''),
    make('id_encrypted', passphrase),
  ]);
  return { privateKey, publicKey, encryptedPrivateKey, encryptedPublicKey, passphrase };
}
