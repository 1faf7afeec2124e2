// Shared sessions in a real browser (Debian's chromium, driven by playwright-core) against
// Sallyport in embedded mode: the owner shares a link, a second user follows it through the
// login, sees the screen as it is, watches live, asks for control and types; invitations,
// detaching and resuming from the server list, and links that no longer work.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from './harness/processes.js';
import { UI_TIMEOUT_MS, launchBrowser, newPage as openPage } from './support/browser.js';
import { ADMIN_USER, startEmbedded, type Embedded } from './support/sallyport.js';
import { marker, sshdServer } from './support/target.js';

const sshd = inject('sshd');
const SCREENSHOT = '/tmp/sallyport-share-owner.png';
const BOB = { username: 'bob', password: 'bob-password-for-e2e' };
const CAROL = { username: 'carol', password: 'carol-password-for-e2e' };

let sp: Embedded;
let browser: Browser;
let server: { id: string; name: string };

beforeAll(async () => {
  sp = await startEmbedded();
  await waitFor(async () => (await fetch(`${sp.url}/healthz`)).ok, { description: 'GET /healthz' });
  for (const user of [BOB, CAROL]) await sp.admin.createUser({ ...user, role: 'user' });
  server = await sp.admin.createServer(sshdServer(sshd));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await sp?.stop();
});

const newPage = () => openPage(browser);

async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

const terminalText = (page: Page) => page.locator('.xterm-rows').textContent();
const occurrences = (text: string | null, needle: string) => (text ?? '').split(needle).length - 1;
const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: UI_TIMEOUT_MS });
const SESSION_URL = /\/terminal\/session\/([0-9a-f-]{36})$/;

async function typeInTerminal(page: Page, text: string): Promise<void> {
  await page.focus('#terminal .xterm-helper-textarea');
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

/** Logs the admin in and opens a new session on the test server; returns its id. */
async function ownerSession(page: Page): Promise<string> {
  await page.goto(`${sp.url}/login`);
  await logIn(page, ADMIN_USER, sp.adminPassword);
  await page.locator(`[data-testid=server-row][data-server-id="${server.id}"]`).waitFor();
  await page
    .locator(`[data-testid=server-row][data-server-id="${server.id}"] [data-testid=connect]`)
    .click();
  await page.waitForSelector('#terminal-view[data-state=ready]');
  // The address becomes the session's, so that a reload resumes it instead of opening another.
  await page.waitForURL(SESSION_URL);
  return SESSION_URL.exec(new URL(page.url()).pathname)![1]!;
}

const participant = (page: Page, name: string) =>
  page.locator('#participants [data-testid=participant]', {
    has: page.locator('[data-testid=participant-name]', { hasText: name }),
  });

describe('shared sessions in the browser', () => {
  it('shares a view link: the joiner logs in, sees the screen, watches, asks for control and types', async () => {
    const owner = await newPage();
    const sessionId = await ownerSession(owner.page);
    const before = marker('before');
    await typeInTerminal(owner.page, `echo ${before}`);
    await poll(async () => occurrences(await terminalText(owner.page), before)).toBe(2);

    // Share: a view link, default expiry.
    await owner.page.click('#share-button');
    await owner.page.waitForSelector('#share-dialog[open]');
    expect(await owner.page.isChecked('#share-mode-view')).toBe(true);
    expect(await owner.page.inputValue('#share-expires')).toBe('60');
    await owner.page.click('#share-create');
    await poll(() => owner.page.inputValue('#share-url')).toMatch(/\/join#.+/);
    const url = await owner.page.inputValue('#share-url');
    expect(url.startsWith(`${sp.url}/join#`)).toBe(true);
    const shareRow = owner.page.locator('[data-testid=share-row]');
    await poll(() => shareRow.count()).toBe(1);
    expect(await shareRow.getAttribute('data-status')).toBe('active');
    await owner.page.screenshot({ path: '/tmp/sallyport-share-dialog.png' });
    await owner.page.click('#share-close');
    await owner.page.waitForSelector('#share-dialog', { state: 'detached' });

    // Bob follows the link without being logged in: the login comes first, then the session.
    const bob = await newPage();
    await bob.page.goto(url);
    await bob.page.waitForURL(/\/login\?next=%2Fjoin$/);
    expect(bob.page.url()).not.toContain('#'); // the token left the address bar at once
    await logIn(bob.page, BOB.username, BOB.password);
    await bob.page.waitForURL(new RegExp(`/terminal/session/${sessionId}$`));
    await bob.page.waitForSelector('#terminal-view[data-state=ready]');
    // The screen as it was before bob came, from the snapshot.
    await poll(async () => occurrences(await terminalText(bob.page), before)).toBe(2);
    expect(await bob.page.textContent('#terminal-title')).toBe(server.name);
    expect(await bob.page.isVisible('#view-only')).toBe(true);
    expect(await bob.page.isVisible('#control-request')).toBe(true);
    expect(await bob.page.isVisible('#end-session')).toBe(false);
    expect(await bob.page.isVisible('#share-button')).toBe(false);

    // The owner sees who is watching.
    await poll(() => participant(owner.page, BOB.username).getAttribute('data-role')).toBe('view');
    expect(await participant(owner.page, ADMIN_USER).getAttribute('data-role')).toBe('owner');
    expect(await owner.page.isVisible('#participants-panel')).toBe(true);

    // A viewer's keystrokes go nowhere; the owner's output reaches both screens.
    const ignored = marker('viewer-typed');
    await typeInTerminal(bob.page, `echo ${ignored}`);
    const after = marker('after');
    await typeInTerminal(owner.page, `echo ${after}`);
    await poll(async () => occurrences(await terminalText(owner.page), after)).toBe(2);
    await poll(async () => occurrences(await terminalText(bob.page), after)).toBe(2);
    expect(await terminalText(owner.page)).not.toContain(ignored);
    expect(await terminalText(bob.page)).not.toContain(ignored);
    await owner.page.screenshot({ path: SCREENSHOT });
    await bob.page.screenshot({ path: '/tmp/sallyport-share-viewer.png' });

    // Bob asks for control, the owner grants it, bob types.
    await bob.page.click('#control-request');
    await poll(() => bob.page.textContent('#control-request')).toBe('Control requested…');
    await owner.page.waitForSelector('#control-requests:not([hidden])');
    expect(await owner.page.textContent('#control-request-text')).toBe('bob asks for control');
    await owner.page.screenshot({ path: '/tmp/sallyport-share-request.png' });
    await owner.page.click('#control-grant');
    await bob.page.waitForSelector('#control-badge:not([hidden])');
    expect(await bob.page.isVisible('#view-only')).toBe(false);
    await poll(() => participant(owner.page, BOB.username).getAttribute('data-role')).toBe(
      'control',
    );
    const fromBob = marker('from-bob');
    await typeInTerminal(bob.page, `echo ${fromBob}`);
    await poll(async () => occurrences(await terminalText(bob.page), fromBob)).toBe(2);
    await poll(async () => occurrences(await terminalText(owner.page), fromBob)).toBe(2);

    // And takes it back.
    await participant(owner.page, BOB.username).locator('[data-testid=revoke-control]').click();
    await bob.page.waitForSelector('#view-only:not([hidden])');
    await poll(() => participant(owner.page, BOB.username).getAttribute('data-role')).toBe('view');

    // Revoking the link puts bob out.
    await owner.page.click('#share-button');
    await owner.page.locator('[data-testid=share-row] [data-testid=share-revoke]').click();
    await poll(() => shareRow.getAttribute('data-status')).toBe('revoked');
    await bob.page.waitForSelector('#terminal-view[data-state=ended]');
    expect(await bob.page.textContent('#terminal-ended-message')).toBe(
      '[removed from the session: the share you joined through was revoked]',
    );
    await poll(() => participant(owner.page, BOB.username).count()).toBe(0);
    expect(owner.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });

  it('invites a user, who accepts from the server list; the owner detaches and resumes', async () => {
    const owner = await newPage();
    const sessionId = await ownerSession(owner.page);
    const word = marker('kept');
    await typeInTerminal(owner.page, `echo ${word}`);
    await poll(async () => occurrences(await terminalText(owner.page), word)).toBe(2);

    await owner.page.click('#share-button');
    await owner.page.fill('#invite-username', CAROL.username);
    await owner.page.selectOption('#invite-mode', 'control');
    await owner.page.click('#invite-submit');
    await poll(() => owner.page.textContent('#invite-result')).toContain('Invited carol');
    await owner.page.keyboard.press('Escape');
    await owner.page.waitForSelector('#share-dialog', { state: 'detached' });

    const carol = await newPage();
    await carol.page.goto(`${sp.url}/login`);
    await logIn(carol.page, CAROL.username, CAROL.password);
    const invite = carol.page.locator(`[data-testid=invite-row][data-session-id="${sessionId}"]`);
    await invite.waitFor();
    expect(await invite.textContent()).toContain(`admin invites you to work in a session on`);
    await invite.locator('[data-testid=invite-accept]').click();
    await carol.page.waitForURL(new RegExp(`/terminal/session/${sessionId}$`));
    await carol.page.waitForSelector('#terminal-view[data-state=ready]');
    await poll(async () => occurrences(await terminalText(carol.page), word)).toBe(2);
    expect(await carol.page.isVisible('#control-badge')).toBe(true);
    await poll(() => participant(owner.page, CAROL.username).getAttribute('data-role')).toBe(
      'control',
    );

    // The owner detaches; the session goes on and is listed; carol keeps working in it.
    await owner.page.click('#detach');
    await owner.page.waitForURL(`${sp.url}/`);
    const row = owner.page.locator(`[data-testid=session-row][data-session-id="${sessionId}"]`);
    await row.waitFor();
    await owner.page.screenshot({ path: '/tmp/sallyport-share-list.png' });
    const meanwhile = marker('meanwhile');
    await typeInTerminal(carol.page, `echo ${meanwhile}`);
    await poll(async () => occurrences(await terminalText(carol.page), meanwhile)).toBe(2);

    await row.locator('[data-testid=resume]').click();
    await owner.page.waitForURL(new RegExp(`/terminal/session/${sessionId}$`));
    await owner.page.waitForSelector('#terminal-view[data-state=ready]');
    await poll(async () => occurrences(await terminalText(owner.page), meanwhile)).toBe(2);
    expect(await owner.page.textContent('#terminal-status-text')).toBe(
      'Connected · session resumed',
    );

    // A reload resumes too, and End session ends it for everyone.
    await owner.page.reload();
    await owner.page.waitForSelector('#terminal-view[data-state=ready]');
    await poll(async () => occurrences(await terminalText(owner.page), meanwhile)).toBe(2);
    await owner.page.click('#end-session');
    await owner.page.waitForSelector('#terminal-view[data-state=ended]');
    await carol.page.waitForSelector('#terminal-view[data-state=ended]');
    expect(await carol.page.textContent('#terminal-ended-message')).toBe(
      '[session ended: the session was ended by its owner]',
    );
    expect(await carol.page.isVisible('#terminal-ended-reconnect')).toBe(false);
    await owner.page.click('#terminal-ended-back');
    await poll(() => row.count()).toBe(0);
    // Its address now says that it has ended, rather than trying for ever.
    await owner.page.goto(`${sp.url}/terminal/session/${sessionId}`);
    await owner.page.waitForSelector('#terminal-view[data-state=ended]');
    expect(await owner.page.textContent('#terminal-ended-message')).toBe(
      '[session ended: the session was ended by its owner]',
    );
    expect(await owner.page.isVisible('#terminal-ended-reconnect')).toBe(true);
    expect(owner.problems).toEqual([]);
    expect(carol.problems).toEqual([]);
  });

  it('acknowledges what it renders, so a flood of output never stalls the shell, and reconnects by itself', async () => {
    const { page, problems } = await newPage();
    // Keeps every terminal socket the page opens, so that the test can drop one.
    await page.addInitScript({
      content: `{
        const Native = window.WebSocket;
        window.__sockets = [];
        window.WebSocket = class extends Native {
          constructor(...args) { super(...args); window.__sockets.push(this); }
        };
      }`,
    });
    const sessionId = await ownerSession(page);

    // Far more than the worker's flow window (1 MiB): it only gets through if acks flow. The
    // command line scrolls away, so the shell computes what is looked for.
    const tag = marker('flood');
    const done = `${tag}-42`;
    await typeInTerminal(page, `seq 1 300000; echo ${tag}-$((6*7))`);
    await poll(async () => occurrences(await terminalText(page), done)).toBe(1);

    // The connection drops without the session ending: the page attaches again by itself.
    await page.evaluate('window.__sockets.at(-1).close()');
    await page.waitForSelector('#terminal-view[data-state=reconnecting]');
    expect(await page.textContent('#terminal-status-text')).toMatch(/reconnecting/);
    await page.waitForSelector('#terminal-view[data-state=ready]');
    expect(await page.textContent('#terminal-notice')).toBe('Reconnected.');
    expect(new URL(page.url()).pathname).toBe(`/terminal/session/${sessionId}`);
    expect(await terminalText(page)).toContain(done); // the screen, from the snapshot
    const again = marker('again');
    await typeInTerminal(page, `echo ${again}`);
    await poll(async () => occurrences(await terminalText(page), again)).toBe(2);
    expect(problems).toEqual([]);
  });

  it('says so when a link does not work, and lets an admin add users', async () => {
    const { page, problems } = await newPage();
    await page.goto(`${sp.url}/join#not-a-real-token`);
    await page.waitForURL(/\/login\?next=%2Fjoin$/);
    await logIn(page, ADMIN_USER, sp.adminPassword);
    await poll(() => page.textContent('#join-error')).toBe(
      'this share link is invalid, expired, used up or revoked',
    );
    expect(new URL(page.url()).pathname).toBe('/join');

    await page.click('#nav-users');
    await page.waitForURL(`${sp.url}/users`);
    await page.locator('[data-testid=user-row]', { hasText: BOB.username }).waitFor();
    await page.fill('#user-username', 'dave');
    await page.fill('#user-password', 'short');
    await page.click('#user-submit');
    await poll(() => page.textContent('#user-password-error')).toContain('at least 12');
    await page.fill('#user-username', '-dave');
    await page.fill('#user-password', 'dave-password-for-e2e');
    await page.click('#user-submit');
    await poll(() => page.textContent('#user-username-error')).not.toBe('');
    await page.fill('#user-username', 'dave');
    await page.click('#user-submit');
    await page.locator('[data-testid=user-row]', { hasText: 'dave' }).waitFor();
    expect(problems).toEqual([]);
  });
});
