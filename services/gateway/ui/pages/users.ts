import { ApiError, api, errorMessage, type User, type UserRole } from '../api.js';
import type { Page } from '../app.js';
import { field, h, setText } from '../dom.js';
import { appHeader } from './header.js';

const MIN_PASSWORD_LENGTH = 12;

// The API names a bad field in `error.details.field`; this is where each one is shown.
const ERROR_SLOTS: Record<string, string> = {
  username: 'user-username-error',
  password: 'user-password-error',
  role: 'user-role-error',
  displayName: 'user-display-name-error',
};

/** /users: the local users; admins add new ones. */
export const usersPage: Page = (root, { app }) => {
  document.title = 'Users — Sallyport';
  const isAdmin = app.user?.role === 'admin';
  let disposed = false;

  const error = h('div', { id: 'users-error', class: 'form-error', role: 'alert' });
  const rows = h('tbody', { id: 'user-rows' });
  const fail = (err: unknown): void => {
    if (err instanceof ApiError && err.status === 401) return app.loginRequired();
    setText(error, errorMessage(err));
  };

  const row = (user: User): HTMLTableRowElement =>
    h(
      'tr',
      { 'data-testid': 'user-row', 'data-user-id': user.id },
      h('td', { 'data-testid': 'user-username', class: 'name' }, user.username),
      h('td', { 'data-testid': 'user-display-name' }, user.displayName ?? ''),
      h('td', { 'data-testid': 'user-role' }, user.role),
    );

  const load = async (): Promise<void> => {
    try {
      const users = await api.listUsers();
      if (disposed) return;
      setText(error, '');
      rows.replaceChildren(...users.map(row));
    } catch (err) {
      if (!disposed) fail(err);
    }
  };

  const form = isAdmin ? userForm(() => void load(), app.loginRequired.bind(app)) : null;

  root.append(
    appHeader(app),
    h(
      'main',
      { class: 'wide', id: 'users' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Users')),
      form,
      error,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'user-table' },
          h(
            'thead',
            {},
            h('tr', {}, ...['Username', 'Name', 'Role'].map((title) => h('th', {}, title))),
          ),
          rows,
        ),
      ),
    ),
  );
  rows.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'Loading users…')));
  void load();
  return () => {
    disposed = true;
  };
};

function userForm(onCreated: () => void, loginRequired: () => void): HTMLFormElement {
  const username = h('input', {
    id: 'user-username',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    maxlength: 64,
  });
  const displayName = h('input', { id: 'user-display-name', autocomplete: 'off', maxlength: 100 });
  const password = h('input', {
    id: 'user-password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: MIN_PASSWORD_LENGTH,
  });
  const role = h(
    'select',
    { id: 'user-role' },
    h('option', { value: 'user' }, 'User'),
    h('option', { value: 'admin' }, 'Admin'),
    h('option', { value: 'auditor' }, 'Auditor'),
  );
  const submit = h('button', { id: 'user-submit', type: 'submit', class: 'primary' }, 'Add user');
  const formError = h('div', { id: 'user-form-error', class: 'form-error', role: 'alert' });
  const created = h('div', { id: 'user-created', class: 'ok-text', role: 'status' });

  const clearErrors = (): void => {
    setText(formError, '');
    setText(created, '');
    for (const id of Object.values(ERROR_SLOTS)) {
      const slot = form.querySelector(`#${id}`);
      if (slot) setText(slot, '');
    }
  };
  const showError = (fieldName: string | undefined, message: string): void => {
    const id = fieldName === undefined ? undefined : ERROR_SLOTS[fieldName];
    const slot = id === undefined ? null : form.querySelector(`#${id}`);
    if (!slot || fieldName === undefined) return setText(formError, message);
    // "username: use letters…" reads better next to the username field without the prefix.
    setText(
      slot,
      message.startsWith(`${fieldName}: `) ? message.slice(fieldName.length + 2) : message,
    );
  };

  const onSubmit = async (): Promise<void> => {
    clearErrors();
    if (password.value.length < MIN_PASSWORD_LENGTH)
      return showError('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
    submit.disabled = true;
    try {
      const user = await api.createUser({
        username: username.value.trim(),
        password: password.value,
        role: role.value as UserRole,
        ...(displayName.value.trim() ? { displayName: displayName.value.trim() } : {}),
      });
      setText(created, `Added ${user.username}.`);
      username.value = displayName.value = password.value = '';
      role.value = 'user';
      onCreated();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return loginRequired();
      if (err instanceof ApiError) showError(err.field, err.message);
      else setText(formError, errorMessage(err));
    } finally {
      submit.disabled = false;
    }
  };

  const form = h(
    'form',
    {
      id: 'user-form',
      class: 'card',
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        void onSubmit();
      },
    },
    h('h2', {}, 'Add user'),
    h(
      'div',
      { class: 'grid' },
      field('Username', username, { errorId: 'user-username-error' }),
      field('Display name (optional)', displayName, { errorId: 'user-display-name-error' }),
      field('Password', password, {
        hint: `At least ${MIN_PASSWORD_LENGTH} characters.`,
        errorId: 'user-password-error',
      }),
      field('Role', role, { errorId: 'user-role-error' }),
    ),
    formError,
    created,
    h('div', { class: 'actions' }, submit),
  );
  return form;
}
