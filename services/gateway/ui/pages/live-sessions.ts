import { ApiError, api, errorMessage, type Invite, type SessionSummary } from '../api.js';
import type { App } from '../app.js';
import { h, setText } from '../dom.js';
import { sessionPath } from './terminal.js';

const POLL_INTERVAL_MS = 10_000;
// DELETE answers 202 and the worker ends the session a moment later.
const RELOAD_AFTER_END_MS = 1_500;

function formatTime(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

/**
 * The server list's live part: invitations waiting for an answer, and the sessions still running
 * (to resume, open or end). Both are polled while the page is shown; `dispose` stops that.
 */
export function liveSections(app: App): {
  invites: HTMLElement;
  sessions: HTMLElement;
  dispose(): void;
} {
  let disposed = false;
  const me = app.user?.id;
  /** Usernames by id, for sessions an admin sees that belong to others. */
  let usernames: Map<string, string> | undefined;

  const fail = (slot: HTMLElement, err: unknown): void => {
    if (err instanceof ApiError && err.status === 401) return app.loginRequired();
    setText(slot, errorMessage(err));
  };

  // ---- invitations ----
  const inviteRows = h('ul', { id: 'invite-rows', class: 'plain-list' });
  const inviteError = h('div', { id: 'invites-error', class: 'form-error', role: 'alert' });
  const invites = h(
    'section',
    { id: 'invites', class: 'card invites', hidden: true, 'aria-live': 'polite' },
    h('h2', {}, 'Invitations'),
    inviteError,
    inviteRows,
  );
  const inviteRow = (invite: Invite): HTMLLIElement => {
    const accept = h(
      'button',
      { type: 'button', class: 'primary', 'data-testid': 'invite-accept' },
      'Accept',
    );
    const decline = h('button', { type: 'button', 'data-testid': 'invite-decline' }, 'Decline');
    const busy = (on: boolean): void => {
      accept.disabled = decline.disabled = on;
    };
    accept.addEventListener('click', () => {
      busy(true);
      api.acceptInvite(invite.id).then(
        ({ sessionId }) => app.navigate(sessionPath(sessionId)),
        (err: unknown) => {
          busy(false);
          fail(inviteError, err);
          void loadInvites();
        },
      );
    });
    decline.addEventListener('click', () => {
      busy(true);
      api.declineInvite(invite.id).then(
        () => loadInvites(),
        (err: unknown) => {
          busy(false);
          fail(inviteError, err);
          void loadInvites();
        },
      );
    });
    return h(
      'li',
      {
        'data-testid': 'invite-row',
        'data-invite-id': invite.id,
        'data-session-id': invite.sessionId,
      },
      h(
        'span',
        { class: 'invite-text' },
        h('strong', {}, invite.from),
        invite.mode === 'control'
          ? ' invites you to work in a session on '
          : ' invites you to watch a session on ',
        h('strong', {}, invite.serverName ?? 'a deleted server'),
      ),
      h('span', { class: 'row-actions' }, accept, decline),
    );
  };
  const loadInvites = async (): Promise<void> => {
    try {
      const list = await api.listInvites();
      if (disposed) return;
      inviteRows.replaceChildren(...list.map(inviteRow));
      invites.hidden = list.length === 0 && inviteError.textContent === '';
    } catch (err) {
      if (!disposed) fail(inviteError, err);
    }
  };

  // ---- active sessions ----
  const sessionRows = h('ul', { id: 'session-rows', class: 'plain-list' });
  const sessionError = h('div', { id: 'sessions-error', class: 'form-error', role: 'alert' });
  const sessions = h(
    'section',
    { id: 'active-sessions', class: 'card', hidden: true },
    h('h2', {}, 'Active sessions'),
    sessionError,
    sessionRows,
  );
  const sessionRow = (session: SessionSummary): HTMLLIElement => {
    const mine = session.userId === me;
    const owner = mine ? 'yours' : `${usernames?.get(session.userId) ?? 'another user'}'s`;
    const open = h(
      'a',
      {
        href: sessionPath(session.id),
        'data-link': true,
        class: 'button primary',
        'data-testid': mine ? 'resume' : 'open',
      },
      mine ? 'Resume' : 'Open',
    );
    const end = mine
      ? h('button', { type: 'button', class: 'danger', 'data-testid': 'end' }, 'End')
      : null;
    end?.addEventListener('click', () => {
      const name = session.serverName ?? 'a deleted server';
      if (!window.confirm(`End the session on ${name}? Everyone in it is disconnected.`)) return;
      end.disabled = true;
      api.endSession(session.id).then(
        () => {
          item.remove();
          if (sessionRows.childElementCount === 0) sessions.hidden = true;
          window.setTimeout(() => void loadSessions(), RELOAD_AFTER_END_MS);
        },
        (err: unknown) => {
          end.disabled = false;
          fail(sessionError, err);
        },
      );
    });
    const item = h(
      'li',
      {
        'data-testid': 'session-row',
        'data-session-id': session.id,
        'data-mine': mine ? 'true' : 'false',
      },
      h(
        'span',
        {},
        h('strong', { 'data-testid': 'session-server' }, session.serverName ?? 'deleted server'),
        h(
          'span',
          { class: 'muted' },
          ` · ${owner} · started ${formatTime(session.connectedAt ?? session.createdAt)} · #${session.id.slice(0, 8)}`,
        ),
      ),
      h('span', { class: 'row-actions' }, open, end),
    );
    return item;
  };
  const loadSessions = async (): Promise<void> => {
    try {
      const list = await api.activeSessions();
      if (!usernames && list.some((s) => s.userId !== me)) {
        usernames = new Map(
          (await api.listUsers().catch(() => [])).map((u) => [u.id, u.username] as const),
        );
      }
      if (disposed) return;
      setText(sessionError, '');
      // Your own first, the newest first within each.
      const sorted = [...list].sort((a, b) => Number(b.userId === me) - Number(a.userId === me));
      sessionRows.replaceChildren(...sorted.map(sessionRow));
      sessions.hidden = list.length === 0;
    } catch (err) {
      if (!disposed) {
        sessions.hidden = false;
        fail(sessionError, err);
      }
    }
  };

  const refresh = (): void => {
    void loadInvites();
    void loadSessions();
  };
  refresh();
  const timer = window.setInterval(refresh, POLL_INTERVAL_MS);
  return {
    invites,
    sessions,
    dispose: () => {
      disposed = true;
      window.clearInterval(timer);
    },
  };
}
