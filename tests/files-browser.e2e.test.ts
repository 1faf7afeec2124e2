// The Files view in a real browser against embedded Sallyport and the real sshd: upload through
// the file input, see the file listed (its odd name as text), edit and save it in CodeMirror,
// meet the conflict warning, and download it.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from './harness/processes.js';
import { ensureTestUser } from './harness/sshd.js';
import { UI_TIMEOUT_MS, launchBrowser, logIn, newPage } from './support/browser.js';
import { ADMIN_USER, startEmbedded, type Embedded } from './support/sallyport.js';
import { userDir } from './support/sftp-fixture.js';
import { sshdServer } from './support/target.js';

const sshd = inject('sshd');
const SCREENSHOT = '/tmp/sallyport-files.png';
let sp: Embedded;
let browser: Browser;
let dir: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  [sp, browser] = await Promise.all([startEmbedded(), launchBrowser()]);
  dir = await userDir((await ensureTestUser()).home, 'sftp-browser');
});
afterAll(async () => {
  await browser?.close();
  await sp?.stop();
  await dir?.remove();
});

const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: UI_TIMEOUT_MS });
const fileRow = (page: Page, name: string) =>
  page.locator('[data-testid=file-row]', { has: page.getByRole('button', { name, exact: true }) });

describe('the Files view in a browser', () => {
  it('uploads by the file input, lists, edits, saves, warns of a conflict, and downloads', async () => {
    const name = '<b>notes<b> & ünï "q".txt';
    const server = await sp.admin.createServer(sshdServer(sshd, { sftpRoots: [dir.path] }));
    const { page, problems } = await newPage(browser);
    await page.goto(`${sp.url}/login`);
    await logIn(page, ADMIN_USER, sp.adminPassword);
    const serverRow = page.locator(`[data-testid=server-row][data-server-id="${server.id}"]`);
    await serverRow.locator('[data-testid=files]').click();
    await page.waitForURL(new RegExp(`/files/${server.id}$`));
    // Confined to one root, the view opens there.
    await poll(() => page.getAttribute('#files-view', 'data-path')).toBe(dir.path);
    expect(await page.textContent('#files-title')).toBe(`Files · ${server.name}`);

    await page.setInputFiles('#files-upload-input', {
      name,
      mimeType: 'text/plain',
      buffer: Buffer.from('first line\n'),
    });
    const row = fileRow(page, name);
    await row.waitFor();
    expect(await row.locator('[data-testid=file-open]').textContent()).toBe(name);
    expect(await page.locator('#file-rows b').count()).toBe(0);
    await poll(() => page.locator('[data-testid=transfer]').getAttribute('data-state')).toBe(
      'done',
    );
    expect(await readFile(join(dir.path, name), 'utf8')).toBe('first line\n');

    await row.locator('[data-testid=file-edit]').click();
    await poll(() => page.textContent('#editor-status')).toBe('Saved');
    expect(await page.textContent('#editor .cm-content')).toBe('first line');
    await page.click('#editor .cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('second line');
    await poll(() => page.textContent('#editor-status')).toBe('Edited');
    await page.click('#editor-save');
    await poll(() => page.textContent('#editor-status')).toBe('Saved');
    expect(await readFile(join(dir.path, name), 'utf8')).toBe('first line\nsecond line');

    // Someone changes the file meanwhile: saving again warns instead of overwriting.
    await writeFile(join(dir.path, name), 'changed elsewhere\n');
    await page.keyboard.type('!');
    await page.click('#editor-save');
    await page.locator('#editor-conflict').waitFor();
    expect(await page.textContent('#editor-conflict')).toContain('was changed by someone else');
    expect(await readFile(join(dir.path, name), 'utf8')).toBe('changed elsewhere\n');
    await page.click('#editor-reload');
    await poll(() => page.textContent('#editor .cm-content')).toBe('changed elsewhere');
    await page.screenshot({ path: SCREENSHOT });
    await page.keyboard.press('Escape');
    await page.locator('#editor-modal').waitFor({ state: 'detached' });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.locator('[data-testid=file-download]').click(),
    ]);
    // The browser makes the name safe for its file system (no <, >, " in it).
    expect(download.suggestedFilename()).toMatch(/^_b_notes_b_ & .* _q_\.txt$/);
    const saved = await waitFor(() => download.path(), { description: 'the download to finish' });
    expect(await readFile(saved, 'utf8')).toBe('changed elsewhere\n');
    expect(problems).toEqual([]);
  });

  it('uploads a whole folder, keeping its tree', async () => {
    const local = await mkdtemp(join(tmpdir(), 'sp-folder-'));
    try {
      await mkdir(join(local, 'album', 'day 1'), { recursive: true });
      await writeFile(join(local, 'album', 'cover.txt'), 'cover\n');
      await writeFile(join(local, 'album', 'day 1', 'ünï.txt'), 'day one\n');
      const server = await sp.admin.createServer(sshdServer(sshd));
      const { page, problems } = await newPage(browser);
      await page.goto(
        `${sp.url}/login?next=${encodeURIComponent(`/files/${server.id}?path=${dir.path}`)}`,
      );
      await logIn(page, ADMIN_USER, sp.adminPassword);
      await poll(() => page.getAttribute('#files-view', 'data-path')).toBe(dir.path);
      await page.setInputFiles('#files-upload-folder-input', join(local, 'album'));
      await poll(() => page.locator('[data-testid=transfer][data-state=done]').count()).toBe(2);
      expect(await readFile(join(dir.path, 'album', 'day 1', 'ünï.txt'), 'utf8')).toBe('day one\n');
      expect(await readFile(join(dir.path, 'album', 'cover.txt'), 'utf8')).toBe('cover\n');
      await fileRow(page, 'album').waitFor();
      expect(problems).toEqual([]);
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  });

  it('sets the SFTP switches in the server form; a read-only server offers no changes', async () => {
    const server = await sp.admin.createServer(sshdServer(sshd));
    const { page, problems } = await newPage(browser);
    await page.goto(`${sp.url}/login`);
    await logIn(page, ADMIN_USER, sp.adminPassword);
    const row = page.locator(`[data-testid=server-row][data-server-id="${server.id}"]`);
    await row.locator('[data-testid=edit]').click();
    expect(await page.isChecked('#server-sftp-enabled')).toBe(true);
    await page.check('#server-sftp-read-only');
    await page.fill('#server-sftp-roots', `${dir.path}\n/srv/../etc`);
    await page.click('#server-submit');
    await poll(() => page.textContent('#server-sftp-roots-error')).toBe(
      'must not contain "." or ".." segments',
    );
    await page.fill('#server-sftp-roots', `${dir.path}/`);
    await page.click('#server-submit');
    await page.locator('#server-form').waitFor({ state: 'detached' });
    const saved = await sp.admin.request('GET', `/api/servers/${server.id}`);
    expect(saved.body.server).toMatchObject({
      sftpEnabled: true,
      sftpReadOnly: true,
      sftpRoots: [dir.path],
    });

    await writeFile(join(dir.path, 'read-only.txt'), 'look, do not touch\n');
    await row.locator('[data-testid=files]').click();
    await poll(() => page.getAttribute('#files-view', 'data-path')).toBe(dir.path);
    await fileRow(page, 'read-only.txt').waitFor();
    expect(
      await page.locator('#files-upload, #files-mkdir, [data-testid=file-delete]').count(),
    ).toBe(0);

    await page.click('#files-back');
    await row.locator('[data-testid=edit]').click();
    await page.uncheck('#server-sftp-enabled');
    await page.click('#server-submit');
    await page.locator('#server-form').waitFor({ state: 'detached' });
    await row.locator('[data-testid=files]').waitFor({ state: 'detached' });
    expect(problems).toEqual([]);
  });
});
