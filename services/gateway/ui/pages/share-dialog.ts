import { ApiError, api, errorMessage, type Share, type ShareMode } from '../api.js';
import type { App } from '../app.js';
import { field, h, setText } from '../dom.js';

const MAX_EXPIRY_MINUTES = 7 * 24 * 60;

/** What a share link is now, for its row in the list. */
function shareStatus(share: Share, now = Date.now()): 'revoked' | 'expired' | 'used up' | 'active' {
  if (share.revokedAt) return 'revoked';
  if (Date.parse(share.expiresAt) <= now) return 'expired';
  if (share.maxUses !== null && share.uses >= share.maxUses) return 'used up';
  return 'active';
}

const modeLabel = (mode: ShareMode): string => (mode === 'control' ? 'Control' : 'View only');

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

/**
 * The owner's Share dialog: creates a view or control link (with an expiry and an optional
 * use limit), lists the session's links with Revoke, and invites a named user. Closes (and
 * removes itself) with Close or Escape; `onClose` then runs.
 */
export function openShareDialog(options: {
  app: App;
  sessionId: string;
  parent: HTMLElement;
  onClose(): void;
}): HTMLDialogElement {
  const { app, sessionId } = options;
  const fail = (err: unknown, slot: HTMLElement): void => {
    if (err instanceof ApiError && err.status === 401) return app.loginRequired();
    setText(slot, errorMessage(err));
  };

  // ---- a new link ----
  const modeView = h('input', {
    id: 'share-mode-view',
    type: 'radio',
    name: 'share-mode',
    value: 'view',
    checked: true,
  });
  const modeControl = h('input', {
    id: 'share-mode-control',
    type: 'radio',
    name: 'share-mode',
    value: 'control',
  });
  const expires = h('input', {
    id: 'share-expires',
    type: 'number',
    min: 1,
    max: MAX_EXPIRY_MINUTES,
    step: 1,
    value: 60,
    required: true,
  });
  const maxUses = h('input', {
    id: 'share-max-uses',
    type: 'number',
    min: 1,
    max: 1000,
    step: 1,
    placeholder: 'unlimited',
  });
  const create = h(
    'button',
    { id: 'share-create', type: 'submit', class: 'primary' },
    'Create link',
  );
  const createError = h('div', { id: 'share-error', class: 'form-error', role: 'alert' });
  const url = h('input', { id: 'share-url', readonly: true, spellcheck: 'false' });
  const copy = h('button', { id: 'share-copy', type: 'button' }, 'Copy');
  const copyStatus = h('span', { id: 'share-copy-status', class: 'muted', role: 'status' });
  const result = h(
    'div',
    { id: 'share-result', hidden: true },
    h('label', { for: 'share-url' }, 'Anyone with this link who can log in can join:'),
    h('div', { class: 'copy-row' }, url, copy),
    copyStatus,
  );

  const onCreate = async (): Promise<void> => {
    setText(createError, '');
    const minutes = Number(expires.value);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_EXPIRY_MINUTES)
      return setText(createError, `Expiry must be 1 to ${MAX_EXPIRY_MINUTES} minutes.`);
    const uses = maxUses.value.trim() === '' ? undefined : Number(maxUses.value);
    if (uses !== undefined && (!Number.isInteger(uses) || uses < 1 || uses > 1000))
      return setText(createError, 'Max uses must be a whole number from 1 to 1000, or empty.');
    create.disabled = true;
    try {
      const created = await api.createShare(sessionId, {
        mode: modeControl.checked ? 'control' : 'view',
        expiresInMinutes: minutes,
        ...(uses === undefined ? {} : { maxUses: uses }),
      });
      url.value = created.url;
      setText(copyStatus, '');
      result.hidden = false;
      url.focus();
      url.select();
      await loadShares();
    } catch (err) {
      fail(err, createError);
    } finally {
      create.disabled = false;
    }
  };

  copy.addEventListener('click', () => {
    const done = (ok: boolean): void =>
      setText(copyStatus, ok ? 'Copied.' : 'Press Ctrl+C to copy the selected link.');
    url.select();
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(url.value).then(
        () => done(true),
        () => done(document.execCommand('copy')),
      );
    } else {
      done(document.execCommand('copy'));
    }
  });

  // ---- existing links ----
  const shareRows = h('ul', { id: 'share-list', class: 'plain-list' });
  const listError = h('div', { id: 'share-list-error', class: 'form-error', role: 'alert' });
  const shareRow = (share: Share): HTMLLIElement => {
    const status = shareStatus(share);
    const revoke = h(
      'button',
      { type: 'button', class: 'danger', 'data-testid': 'share-revoke' },
      'Revoke',
    );
    revoke.addEventListener('click', () => {
      revoke.disabled = true;
      api
        .revokeShare(share.id)
        .then(loadShares)
        .catch((err: unknown) => {
          revoke.disabled = false;
          fail(err, listError);
        });
    });
    const uses =
      share.maxUses === null ? `${share.uses} uses` : `${share.uses}/${share.maxUses} uses`;
    return h(
      'li',
      { 'data-testid': 'share-row', 'data-share-id': share.id, 'data-status': status },
      h(
        'span',
        {},
        h('strong', {}, modeLabel(share.mode)),
        ` · ${status === 'expired' ? 'expired' : 'expires'} ${formatTime(share.expiresAt)} · ${uses}`,
        h('span', { class: `share-status ${status.replace(' ', '-')}` }, ` · ${status}`),
      ),
      status === 'revoked' ? null : revoke,
    );
  };
  const loadShares = async (): Promise<void> => {
    try {
      const shares = await api.listShares(sessionId);
      setText(listError, '');
      shareRows.replaceChildren(...shares.map(shareRow));
      if (shares.length === 0) shareRows.append(h('li', { class: 'muted' }, 'No links yet.'));
    } catch (err) {
      fail(err, listError);
    }
  };

  // ---- invitations ----
  const inviteUser = h('input', {
    id: 'invite-username',
    autocomplete: 'off',
    spellcheck: 'false',
    list: 'invite-users',
    required: true,
  });
  const userOptions = h('datalist', { id: 'invite-users' });
  const inviteMode = h(
    'select',
    { id: 'invite-mode' },
    h('option', { value: 'view' }, 'View only'),
    h('option', { value: 'control' }, 'Control'),
  );
  const inviteSubmit = h('button', { id: 'invite-submit', type: 'submit' }, 'Invite');
  const inviteError = h('div', { id: 'invite-error', class: 'form-error', role: 'alert' });
  const inviteResult = h('div', { id: 'invite-result', class: 'ok-text', role: 'status' });
  const onInvite = async (): Promise<void> => {
    setText(inviteError, '');
    setText(inviteResult, '');
    const username = inviteUser.value.trim();
    if (!username) return setText(inviteError, 'Enter the username of the person to invite.');
    const mode: ShareMode = inviteMode.value === 'control' ? 'control' : 'view';
    inviteSubmit.disabled = true;
    try {
      await api.invite(sessionId, username, mode);
      setText(
        inviteResult,
        `Invited ${username} (${modeLabel(mode).toLowerCase()}). They see the invitation on their server list.`,
      );
      inviteUser.value = '';
    } catch (err) {
      fail(err, inviteError);
    } finally {
      inviteSubmit.disabled = false;
    }
  };
  api
    .listUsers()
    .then((users) =>
      userOptions.replaceChildren(
        ...users
          .filter((u) => u.id !== app.user?.id)
          .map((u) => h('option', { value: u.username }, u.displayName ?? '')),
      ),
    )
    .catch(() => undefined); // suggestions only

  const close = h('button', { id: 'share-close', type: 'button' }, 'Close');
  const dialog = h(
    'dialog',
    { id: 'share-dialog', 'aria-labelledby': 'share-dialog-title' },
    h(
      'div',
      { class: 'dialog-head' },
      h('h2', { id: 'share-dialog-title' }, 'Share this session'),
      h('span', { class: 'spacer' }),
      close,
    ),
    h(
      'form',
      {
        id: 'share-form',
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          void onCreate();
        },
      },
      h('h3', {}, 'Share link'),
      h(
        'fieldset',
        { class: 'auth' },
        h('legend', {}, 'People who join'),
        h('label', { class: 'inline' }, modeView, ' can watch'),
        h('label', { class: 'inline' }, modeControl, ' can type too'),
      ),
      h(
        'div',
        { class: 'grid' },
        field('Expires after (minutes)', expires),
        field('Max uses (optional)', maxUses),
      ),
      createError,
      h('div', { class: 'actions' }, create),
      result,
    ),
    h('h3', {}, 'Links of this session'),
    listError,
    shareRows,
    h(
      'form',
      {
        id: 'invite-form',
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          void onInvite();
        },
      },
      h('h3', {}, 'Invite a user'),
      h('div', { class: 'grid' }, field('Username', inviteUser), field('They may', inviteMode)),
      userOptions,
      inviteError,
      inviteResult,
      h('div', { class: 'actions' }, inviteSubmit),
    ),
  );

  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    options.onClose();
  });
  options.parent.append(dialog);
  dialog.showModal();
  modeView.focus();
  shareRows.append(h('li', { class: 'muted' }, 'Loading…'));
  void loadShares();
  return dialog;
}
