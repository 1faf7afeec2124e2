import { ApiError, api, errorMessage, type Recording } from '../api.js';
import type { Page } from '../app.js';
import { h, setText } from '../dom.js';
import { dateTime, duration, size } from '../format.js';
import { appHeader } from './header.js';
import { recordingPolicies } from './recording-policies.js';

const STATUS_TEXT: Record<Recording['status'], string> = {
  recording: 'recording…',
  complete: 'complete',
  incomplete: 'incomplete',
};

/**
 * /recordings: the recordings this user may see (their own sessions'; admins and auditors see
 * all), filtered by server, user and status. Admins also set the recording policies here.
 */
export const recordingsPage: Page = (root, { app }) => {
  document.title = 'Recordings — Sallyport';
  let disposed = false;
  const error = h('div', { id: 'recordings-error', class: 'form-error', role: 'alert' });
  const rows = h('tbody', { id: 'recording-rows' });
  const serverFilter = h('input', { id: 'filter-server', type: 'search', placeholder: 'Server' });
  const userFilter = h('input', { id: 'filter-user', type: 'search', placeholder: 'User' });
  const statusFilter = h(
    'select',
    { id: 'filter-status' },
    h('option', { value: '' }, 'Any status'),
    ...Object.entries(STATUS_TEXT).map(([value, text]) => h('option', { value }, text)),
  );
  let all: Recording[] = [];

  const fail = (err: unknown): void => {
    if (err instanceof ApiError && err.status === 401) return app.loginRequired();
    setText(error, errorMessage(err));
  };

  const row = (r: Recording): HTMLTableRowElement =>
    h(
      'tr',
      { 'data-testid': 'recording-row', 'data-recording-id': r.id },
      h(
        'td',
        {},
        h(
          'a',
          { href: `/recordings/${encodeURIComponent(r.id)}`, 'data-link': true, class: 'name' },
          r.serverName,
        ),
      ),
      h('td', {}, r.username),
      h('td', {}, r.participants.join(', ')),
      h('td', {}, dateTime(r.startedAt)),
      h('td', {}, duration(r.durationMs)),
      h('td', {}, size(r.sizeBytes)),
      h(
        'td',
        { 'data-testid': 'recording-status' },
        STATUS_TEXT[r.status],
        r.gaps > 0
          ? h('span', { class: 'tag warn' }, `${r.gaps} gap${r.gaps === 1 ? '' : 's'}`)
          : null,
      ),
    );

  const render = (): void => {
    const server = serverFilter.value.trim().toLowerCase();
    const user = userFilter.value.trim().toLowerCase();
    const shown = all.filter(
      (r) =>
        (!server || r.serverName.toLowerCase().includes(server)) &&
        (!user || r.participants.some((p) => p.toLowerCase().includes(user))),
    );
    rows.replaceChildren(...shown.map(row));
    if (shown.length === 0)
      rows.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No recordings.')));
  };

  const load = async (): Promise<void> => {
    try {
      const status = statusFilter.value;
      all = await api.listRecordings({ limit: '500', ...(status ? { status } : {}) });
      if (disposed) return;
      setText(error, '');
      render();
    } catch (err) {
      if (!disposed) fail(err);
    }
  };
  serverFilter.addEventListener('input', render);
  userFilter.addEventListener('input', render);
  statusFilter.addEventListener('change', () => void load());

  root.append(
    appHeader(app),
    h(
      'main',
      { class: 'wide' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Recordings')),
      app.user?.role === 'admin' ? recordingPolicies(fail) : null,
      h('div', { class: 'filters' }, serverFilter, userFilter, statusFilter),
      error,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'recording-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Server', 'User', 'Participants', 'Started', 'Duration', 'Size', 'Status'].map(
                (title) => h('th', {}, title),
              ),
            ),
          ),
          rows,
        ),
      ),
    ),
  );
  rows.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'Loading recordings…')));
  void load();
  return () => {
    disposed = true;
  };
};
