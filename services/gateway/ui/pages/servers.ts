import { ApiError, api, errorMessage, type Server } from '../api.js';
import type { Page } from '../app.js';
import { h, setText } from '../dom.js';
import { address } from '../format.js';
import { appHeader } from './header.js';
import { liveSections } from './live-sessions.js';
import { serverForm } from './server-form.js';

/**
 * /: invitations and running sessions, then the server registry. Everyone may connect and test;
 * only admins add, edit and delete.
 */
export const serversPage: Page = (root, { app }) => {
  document.title = 'Servers — Sallyport';
  const isAdmin = app.user?.role === 'admin';
  let disposed = false;

  const formSlot = h('div', { id: 'server-form-slot' });
  const error = h('div', { id: 'servers-error', class: 'form-error', role: 'alert' });
  const rows = h('tbody', { id: 'server-rows' });
  const addButton = isAdmin
    ? h('button', { id: 'add-server', type: 'button', class: 'primary' }, 'Add server')
    : null;

  const fail = (err: unknown): void => {
    if (err instanceof ApiError && err.status === 401) return app.loginRequired();
    setText(error, errorMessage(err));
  };

  const closeForm = (): void => {
    formSlot.replaceChildren();
    if (addButton) addButton.hidden = false;
  };
  const openForm = (server?: Server): void => {
    const form = serverForm({
      server,
      onSaved: () => {
        closeForm();
        void load();
      },
      onCancel: closeForm,
      onLoginRequired: () => app.loginRequired(),
    });
    formSlot.replaceChildren(form);
    if (addButton) addButton.hidden = true;
    form.querySelector<HTMLInputElement>('#server-name')?.focus();
  };
  addButton?.addEventListener('click', () => openForm());

  const row = (server: Server): HTMLTableRowElement => {
    const testResult = h('div', {
      class: 'test-result',
      'data-testid': 'test-result',
      role: 'status',
    });
    const test = h('button', { type: 'button', 'data-testid': 'test' }, 'Test');
    test.addEventListener('click', () => {
      test.disabled = true;
      testResult.className = 'test-result';
      setText(testResult, 'Testing…');
      api
        .testServer(server.id)
        .then((result) => {
          testResult.classList.add(result.ok ? 'ok' : 'failed');
          setText(
            testResult,
            result.ok
              ? `OK · host key ${result.hostKeyFingerprint}${result.hostKeyPinned ? ' (new, now pinned)' : ''}`
              : `Failed: ${result.message}`,
          );
        })
        .catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 401) return app.loginRequired();
          testResult.classList.add('failed');
          setText(testResult, `Failed: ${errorMessage(err)}`);
        })
        .finally(() => (test.disabled = false));
    });

    const adminButtons = isAdmin
      ? [
          h(
            'button',
            { type: 'button', 'data-testid': 'edit', onclick: () => openForm(server) },
            'Edit',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'data-testid': 'delete',
              onclick: () => void remove(server),
            },
            'Delete',
          ),
        ]
      : [];
    return h(
      'tr',
      { 'data-testid': 'server-row', 'data-server-id': server.id },
      h('td', { 'data-testid': 'server-name', class: 'name' }, server.name),
      h('td', { 'data-testid': 'server-address' }, address(server.host, server.port)),
      h(
        'td',
        { 'data-testid': 'server-user' },
        server.username,
        h('span', { class: 'muted' }, ` (${server.authType})`),
      ),
      h('td', { 'data-testid': 'server-group' }, server.group ?? ''),
      h(
        'td',
        { 'data-testid': 'server-tags' },
        ...server.tags.map((tag) => h('span', { class: 'tag' }, tag)),
      ),
      h(
        'td',
        { class: 'row-actions' },
        h(
          'a',
          {
            href: `/terminal/${encodeURIComponent(server.id)}`,
            'data-link': true,
            class: 'button primary',
            'data-testid': 'connect',
          },
          'Connect',
        ),
        server.sftpEnabled
          ? h(
              'a',
              {
                href: `/files/${encodeURIComponent(server.id)}`,
                'data-link': true,
                class: 'button',
                'data-testid': 'files',
              },
              'Files',
            )
          : null,
        test,
        ...adminButtons,
        testResult,
      ),
    );
  };

  const remove = async (server: Server): Promise<void> => {
    if (
      !window.confirm(`Delete the server "${server.name}"? Its stored credentials are deleted too.`)
    )
      return;
    try {
      await api.deleteServer(server.id);
      await load();
    } catch (err) {
      fail(err);
    }
  };

  const load = async (): Promise<void> => {
    try {
      const servers = await api.listServers();
      if (disposed) return;
      setText(error, '');
      rows.replaceChildren(...servers.map(row));
      if (servers.length === 0) {
        rows.append(
          h(
            'tr',
            { id: 'no-servers' },
            h(
              'td',
              { colspan: 6, class: 'muted' },
              isAdmin
                ? 'No servers yet. Add one to connect to it.'
                : 'No servers yet. Ask an admin to add one.',
            ),
          ),
        );
      }
    } catch (err) {
      if (!disposed) fail(err);
    }
  };

  const live = liveSections(app);
  root.append(
    appHeader(app),
    h(
      'main',
      { class: 'wide' },
      live.invites,
      live.sessions,
      h(
        'div',
        { class: 'toolbar' },
        h('h1', {}, 'Servers'),
        h('span', { class: 'spacer' }),
        addButton,
      ),
      formSlot,
      error,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'server-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Name', 'Address', 'User', 'Group', 'Tags', ''].map((title) =>
                h('th', {}, title),
              ),
            ),
          ),
          rows,
        ),
      ),
    ),
  );
  rows.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Loading servers…')));
  void load();
  return () => {
    disposed = true;
    live.dispose();
  };
};
