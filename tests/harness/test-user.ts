// The system account that the harness's sshd authenticates. sshd only logs in real users, so
// integration tests need one; it is created on first use and left in place afterwards.
import { randomBytes } from 'node:crypto';
import { chown, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { run } from './processes.js';

export const TEST_USER = 'sptest';

// The password is random per machine and kept in a root-only file rather than fixed in the
// repo: the account is a real login on the machine (though only our private sshd, which allows
// nobody else, listens for it). It stays the same across runs, so concurrent test runs on one
// machine never invalidate each other's password.
const SECRET_DIR = '/var/lib/sallyport-test';
const PASSWORD_FILE = `${SECRET_DIR}/${TEST_USER}.password`;

export interface TestUser {
  user: string;
  password: string;
  home: string;
}

// Interactive shells get a bare prompt so terminal tests can match "$ ". Bracketed paste is
// off because bash 5.1+ otherwise wraps every prompt in ESC[?2004h / ESC[?2004l.
const DOTFILES: Record<string, string> = {
  '.bashrc': [
    '# Written by the Sallyport test harness (tests/harness/test-user.ts) on every run.',
    'case $- in *i*) ;; *) return ;; esac',
    "PS1='$ '",
    "PS2='> '",
    'unset PROMPT_COMMAND HISTFILE',
    '',
  ].join('\n'),
  // sshd starts interactive sessions as login shells, which read .profile and not .bashrc.
  '.profile': '[ -f ~/.bashrc ] && . ~/.bashrc\n',
  '.inputrc': 'set enable-bracketed-paste off\n',
  '.bash_logout': '',
  // No "Last login" or motd in terminal output.
  '.hushlogin': '',
};

let ensured: Promise<TestUser> | undefined;

/**
 * Creates (idempotently) the system user `sptest` with a home directory, /bin/bash and the
 * per-machine password, and rewrites its dotfiles. Needs root. Memoised per process.
 */
export function ensureTestUser(): Promise<TestUser> {
  ensured ??= doEnsureTestUser();
  return ensured;
}

async function doEnsureTestUser(): Promise<TestUser> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The SSH test harness must run as root: it creates the system user ' +
        `${TEST_USER} and runs a private sshd (CI and the dev machines run as root).`,
    );
  }
  const password = await machinePassword();
  if (!(await userExists())) {
    try {
      await run('useradd', ['--create-home', '--shell', '/bin/bash', TEST_USER]);
    } catch (err) {
      // Another test run may have created it in the meantime.
      if (!(await userExists())) throw err;
    }
  }
  // Setting the same password again is harmless and repairs an account whose password was
  // changed or locked; chpasswd takes the shadow lock, so concurrent runs serialise.
  await run('chpasswd', [], `${TEST_USER}:${password}\n`);

  const home = (await run('getent', ['passwd', TEST_USER])).split(':')[5] ?? `/home/${TEST_USER}`;
  const uid = Number((await run('id', ['-u', TEST_USER])).trim());
  const gid = Number((await run('id', ['-g', TEST_USER])).trim());
  await mkdir(home, { recursive: true, mode: 0o755 });
  await chown(home, uid, gid);
  for (const [name, content] of Object.entries(DOTFILES)) {
    // Write-then-rename so a concurrent run never sees a half-written file.
    const tmp = `${home}/${name}.${process.pid}.tmp`;
    await writeFile(tmp, content, { mode: 0o644 });
    await chown(tmp, uid, gid);
    await rename(tmp, `${home}/${name}`);
  }
  return { user: TEST_USER, password, home };
}

async function userExists(): Promise<boolean> {
  return run('id', ['-u', TEST_USER]).then(
    () => true,
    () => false,
  );
}

/** Reads the per-machine password, creating it atomically on first use. */
async function machinePassword(): Promise<string> {
  await mkdir(SECRET_DIR, { recursive: true, mode: 0o700 });
  try {
    return (await readFile(PASSWORD_FILE, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // link() fails if the file appeared meanwhile, so exactly one writer wins and all agree.
  const tmp = `${PASSWORD_FILE}.${process.pid}.tmp`;
  await writeFile(tmp, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
  try {
    await link(tmp, PASSWORD_FILE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  return (await readFile(PASSWORD_FILE, 'utf8')).trim();
}
