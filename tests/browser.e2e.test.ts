// The web UI in a real browser (Debian's chromium, driven by playwright-core) against Sallyport
// in embedded mode as a real process: log in, add a server through the form, open a shell,
// type a command and read it back from xterm's rendered rows.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from './harness/processes.js';
import { UI_TIMEOUT_MS, launchBrowser, newPage as openPage } from './support/browser.js';
import { ADMIN_USER, startEmbedded, type Embedded } from './support/sallyport.js';
import { recordingOf } from './support/recordings.js';
import { marker, sshdServer } from './support/target.js';
import { TerminalClient } from './support/terminal-client.js';

const sshd = inject('sshd');
const SCREENSHOT = '/tmp/sallyport-terminal.png';

let sp: Embedded;
let browser: Browser;

beforeAll(async () => {
  sp = await startEmbedded();
  await waitFor(async () => (await fetch(`${sp.url}/healthz`)).ok, { description: 'GET /healthz' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await sp?.stop();
});

const newPage = () => openPage(browser);

async function logIn(page: Page, password = sp.adminPassword): Promise<void> {
  await page.fill('#login-username', ADMIN_USER);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

const rowFor = (page: Page, name: string) =>
  page.locator('[data-testid=server-row]', { has: page.getByText(name, { exact: true }) });
const terminalText = (page: Page) => page.locator('.xterm-rows').textContent();
const occurrences = (text: string | null, needle: string) => (text ?? '').split(needle).length - 1;
const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: UI_TIMEOUT_MS });

async function typeInTerminal(page: Page, text: string): Promise<void> {
  await page.focus('#terminal .xterm-helper-textarea');
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

describe('the web UI in a browser', () => {
  it('refuses a wrong password on the login page', async () => {
    const { page, problems } = await newPage();
    await page.goto(`${sp.url}/`);
    await page.waitForURL(/\/login$/);
    await logIn(page, 'not-the-password-at-all');
    await poll(() => page.textContent('#login-error')).toBe('Invalid username or password');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(problems).toEqual([]);
  });

  it('adds a server through the form and runs a command in its terminal', async () => {
    const { page, problems } = await newPage();
    await page.goto(`${sp.url}/`);
    await logIn(page);
    await page.click('#add-server');

    const name = marker('browser-sshd');
    await page.fill('#server-name', name);
    await page.fill('#server-host', '-oProxyCommand=sh');
    await page.fill('#server-port', String(sshd.port));
    await page.fill('#server-username', sshd.user);
    await page.check('#server-auth-key');
    await page.fill('#server-private-key', sshd.privateKey);
    await page.fill('#server-group', 'e2e');
    await page.fill('#server-tags', 'browser, key auth');
    await page.click('#server-submit');
    // The gateway's validation message lands next to the field it names.
    await poll(() => page.textContent('#server-host-error')).toBe('must not begin with "-"');

    await page.fill('#server-host', sshd.host);
    await page.click('#server-submit');
    const row = rowFor(page, name);
    await row.waitFor();
    expect(await page.locator('#server-form').count()).toBe(0);
    expect(await row.locator('[data-testid=server-address]').textContent()).toBe(
      `${sshd.host}:${sshd.port}`,
    );
    expect(await row.locator('[data-testid=server-group]').textContent()).toBe('e2e');
    expect(await row.locator('[data-testid=server-tags] .tag').allTextContents()).toEqual([
      'browser',
      'key auth',
    ]);

    await row.locator('[data-testid=connect]').click();
    // The address becomes the session's, so that a reload resumes it.
    await page.waitForURL(/\/terminal\/session\/[0-9a-f-]+$/);
    await page.waitForSelector('#terminal-view[data-state=ready]');
    expect(await page.textContent('#terminal-title')).toBe(name);
    const status = (await page.textContent('#terminal-status')) ?? '';
    expect(status).toMatch(/^Connected · host key SHA256:/);
    expect(sshd.hostKeyFingerprints.some((fp) => status.includes(fp))).toBe(true);

    const word = marker('browser');
    await typeInTerminal(page, `echo ${word}`);
    // Once in the echoed command line, once as the command's output.
    await poll(async () => occurrences(await terminalText(page), word)).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: SCREENSHOT });
    expect(problems).toEqual([]);
  });

  it('follows a deep link through the login, shows the end of a session, starts a new one and ends it', async () => {
    const server = await sp.admin.createServer(sshdServer(sshd));
    const { page, problems } = await newPage();
    await page.goto(`${sp.url}/terminal/${server.id}`);
    await page.waitForURL(/\/login\?next=/);
    await logIn(page);
    await page.waitForURL(new RegExp(`/terminal/(${server.id}|session/[0-9a-f-]+)$`));
    await page.waitForSelector('#terminal-view[data-state=ready]');

    await typeInTerminal(page, 'exit 0');
    await page.waitForSelector('#terminal-view[data-state=ended]');
    expect(await page.textContent('#terminal-ended-message')).toBe(
      '[session ended: the shell exited with code 0]',
    );
    await poll(() => terminalText(page)).toContain('[session ended: the shell exited with code 0]');
    // Ended means ended: nothing reconnects until the user asks.
    expect(await page.getAttribute('#terminal-view', 'data-state')).toBe('ended');

    await page.click('#terminal-ended-reconnect');
    await page.waitForSelector('#terminal-view[data-state=ready]');
    expect(await page.isVisible('#terminal-ended')).toBe(false);
    const word = marker('again');
    await typeInTerminal(page, `echo ${word}`);
    await poll(async () => occurrences(await terminalText(page), word)).toBeGreaterThanOrEqual(2);

    await page.click('#end-session');
    await page.waitForSelector('#terminal-view[data-state=ended]');
    expect(await page.textContent('#terminal-ended-message')).toMatch(/^\[session ended: .+\]$/);
    await page.click('#terminal-ended-back');
    await page.waitForURL(`${sp.url}/`);
    await rowFor(page, server.name).waitFor();
    expect(problems).toEqual([]);
  });

  it('says why a terminal was not opened when the user is at their session limit', async () => {
    const limited = await startEmbedded({ SALLYPORT_MAX_SESSIONS_PER_USER: '1' });
    try {
      const server = await limited.admin.createServer(sshdServer(sshd));
      const first = await TerminalClient.open(
        limited.url,
        { serverId: server.id },
        { cookie: limited.admin.cookie, origin: limited.admin.origin },
      );
      await first.waitForControl('ready');

      const { page, problems } = await newPage();
      await page.goto(`${limited.url}/terminal/${server.id}`);
      await page.waitForURL(/\/login\?next=/);
      await page.fill('#login-username', ADMIN_USER);
      await page.fill('#login-password', limited.adminPassword);
      await page.click('#login-submit');
      await page.waitForSelector('#terminal-view[data-state=ended]');
      const why = '[session not opened: you already have 1 open session; end one first]';
      expect(await page.textContent('#terminal-ended-message')).toBe(why);
      expect(await page.textContent('#terminal-status-text')).toBe('Not connected');
      await poll(() => terminalText(page)).toContain(why);
      first.close();
      expect(problems).toEqual([]);
    } finally {
      await limited.stop();
    }
  });

  it('shows server names as text, tests, edits and deletes a server', async () => {
    const server = await sp.admin.createServer(
      sshdServer(sshd, { name: '<b>x</b>', tags: ['<i>t</i>'] }),
    );
    const { page, problems } = await newPage();
    await page.goto(`${sp.url}/login`);
    await logIn(page);
    const row = page.locator(`[data-testid=server-row][data-server-id="${server.id}"]`);
    await row.waitFor();
    expect(await row.locator('[data-testid=server-name]').textContent()).toBe('<b>x</b>');
    expect(await row.locator('[data-testid=server-tags]').textContent()).toBe('<i>t</i>');
    expect(await row.locator('b, i').count()).toBe(0);

    await row.locator('[data-testid=test]').click();
    await poll(() => row.locator('[data-testid=test-result]').textContent()).toMatch(
      /^OK · host key SHA256:/,
    );

    // An edit that leaves the secret fields empty keeps the stored password.
    await row.locator('[data-testid=edit]').click();
    expect(await page.textContent('#server-form h2')).toBe('Edit <b>x</b>');
    await page.fill('#server-group', 'ops');
    await page.click('#server-submit');
    await poll(() => row.locator('[data-testid=server-group]').textContent()).toBe('ops');
    await row.locator('[data-testid=test]').click();
    await poll(() => row.locator('[data-testid=test-result]').textContent()).toMatch(
      /^OK · host key SHA256:/,
    );

    page.once('dialog', (dialog) => void dialog.accept());
    await row.locator('[data-testid=delete]').click();
    await row.waitFor({ state: 'detached' });
    expect(problems).toEqual([]);
  });

  it('shows the pinned host key in the edit form, forgets it, and pins the server’s key by hand', async () => {
    const { page, problems } = await newPage();
    await page.goto(`${sp.url}/`);
    await logIn(page);
    await page.click('#add-server');
    const name = marker('browser-host-key');
    await page.fill('#server-name', name);
    await page.fill('#server-host', sshd.host);
    await page.fill('#server-port', String(sshd.port));
    await page.fill('#server-username', sshd.user);
    await page.fill('#server-password', sshd.password);
    await page.click('#server-submit');
    const row = rowFor(page, name);
    await row.waitFor();
    const hostKeyPath = `/api/servers/${await row.getAttribute('data-server-id')}/host-key`;

    // Testing the connection pins the key (unless an earlier test already pinned this address).
    await row.locator('[data-testid=test]').click();
    await poll(() => row.locator('[data-testid=test-result]').textContent()).toMatch(
      /^OK · host key SHA256:/,
    );
    const { hostKey } = (await sp.admin.request('GET', hostKeyPath)).body;
    expect(sshd.hostKeyFingerprints).toContain(hostKey.fingerprint);

    const where = `${sshd.host}:${sshd.port}`;
    await row.locator('[data-testid=edit]').click();
    await poll(() => page.textContent('#host-key-fingerprint')).toBe(hostKey.fingerprint);
    expect(await page.textContent('#host-key-type')).toBe(hostKey.keyType);
    expect(await page.textContent('#host-key-scope')).toContain(`every server at ${where}`);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#host-key-forget');
    await poll(() => page.textContent('#host-key-none')).toBe(
      `No host key is pinned for ${where}. ` +
        'The next connection will pin whatever key the server presents.',
    );
    expect(await page.locator('#host-key-fingerprint').count()).toBe(0);
    expect((await sp.admin.request('GET', hostKeyPath)).body.hostKey).toBeNull();

    // A malformed key is refused under the box, and nothing gets pinned.
    await page.fill('#host-key-input', 'ssh-ed25519 this-is-not-a-key');
    await page.click('#host-key-pin');
    await poll(() => page.textContent('#host-key-input-error')).toMatch(
      /^is not an SSH public key/,
    );
    expect(await page.isVisible('#host-key-none')).toBe(true);

    // The line of the sshd's ssh_host_ed25519_key.pub, as an admin would paste it.
    const publicKey = sshd.hostPublicKeys.find((key) => key.startsWith('ssh-ed25519 '));
    expect(publicKey).toBeDefined();
    await page.fill('#host-key-input', publicKey!);
    await page.click('#host-key-pin');
    await poll(() => page.textContent('#host-key-fingerprint')).toBe(hostKey.fingerprint);
    expect(await page.textContent('#host-key-input-error')).toBe('');
    expect(await page.inputValue('#host-key-input')).toBe('');

    // The pinned key is the one the server presents: the test passes without pinning anew.
    await page.click('#server-cancel');
    await row.locator('[data-testid=test]').click();
    await poll(() => row.locator('[data-testid=test-result]').textContent()).toBe(
      `OK · host key ${hostKey.fingerprint}`,
    );

    // The login session gone while the form is open: pinning (another key) leads to the login
    // page, and pins nothing.
    await row.locator('[data-testid=edit]').click();
    await poll(() => page.textContent('#host-key-fingerprint')).toBe(hostKey.fingerprint);
    await page.context().clearCookies();
    await page.fill('#host-key-input', sshd.publicKey);
    await page.click('#host-key-pin');
    await page.waitForSelector('#login-username');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect((await sp.admin.request('GET', hostKeyPath)).body.hostKey.fingerprint).toBe(
      hostKey.fingerprint,
    );
    expect(problems).toEqual([]);
  });

  it('plays a recording, finds a word in it and jumps the player there', async () => {
    await sp.admin.request('PUT', '/api/recording-policies/global', { enabled: true });
    const server = await sp.admin.createServer(sshdServer(sshd));
    const term = await TerminalClient.open(
      sp.url,
      { serverId: server.id, cols: 80, rows: 24 },
      { cookie: sp.admin.cookie, origin: sp.admin.origin },
    );
    await term.waitForControl('ready');
    const word = marker('needle');
    // Printed a second into the session, as a word built by the shell, so it appears on the
    // screen only then (the command line shows its halves, not the word).
    term.type(`sleep 1; W=${word.slice(0, 4)}; echo "\${W}${word.slice(4)}"; exit\n`);
    await term.waitForControl('exit');
    const recording = await recordingOf(sp.admin, term.sessionId);

    const { page, problems } = await newPage();
    await page.goto(`${sp.url}/recordings`);
    await logIn(page);
    await page.waitForURL(/\/recordings$/);
    const row = page.locator(`[data-testid=recording-row][data-recording-id="${recording.id}"]`);
    await row.locator('a').click();
    await page.waitForURL(new RegExp(`/recordings/${recording.id}$`));
    await page.waitForSelector('#player[data-state=ready] .ap-term');

    await page.fill('#search-query', word);
    await page.click('#search-submit');
    const hit = page.locator('[data-testid=search-hit]');
    await poll(() => hit.count()).toBe(1);
    const time = Number(await hit.getAttribute('data-time'));
    expect(time).toBeGreaterThanOrEqual(1);
    await hit.click();
    await poll(async () =>
      Number(await page.getAttribute('#player-position', 'data-time')),
    ).toBeCloseTo(time, 1);
    await poll(() => page.locator('#player .ap-term').textContent()).toContain(word);
    await page.screenshot({ path: '/tmp/sallyport-recording.png' });
    expect(problems).toEqual([]);
  });
});
