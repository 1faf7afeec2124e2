import { ApiError, api, errorMessage } from '../api.js';
import { safeReturnPath, type Page } from '../app.js';
import { field, h, setText } from '../dom.js';

/** /login: username and password; on success back to where the user was going. */
export const loginPage: Page = (root, { app, query }) => {
  const next = safeReturnPath(query.get('next'));
  if (app.user) return app.navigate(next, { replace: true });
  document.title = 'Log in — Sallyport';

  const username = h('input', {
    id: 'login-username',
    name: 'username',
    autocomplete: 'username',
    required: true,
  });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { id: 'login-submit', type: 'submit', class: 'primary' }, 'Log in');
  const error = h('div', { id: 'login-error', class: 'form-error', role: 'alert' });

  const onSubmit = async (): Promise<void> => {
    setText(error, '');
    submit.disabled = true;
    try {
      app.setUser(await api.login(username.value, password.value));
      app.navigate(next, { replace: true });
    } catch (err) {
      // The gateway words a failed login itself ("Invalid username or password").
      setText(
        error,
        err instanceof ApiError && err.code === 'invalid_credentials'
          ? err.message
          : `Could not log in: ${errorMessage(err)}`,
      );
      password.select();
    } finally {
      submit.disabled = false;
    }
  };

  root.append(
    h(
      'main',
      { class: 'narrow' },
      h('h1', {}, 'Sallyport'),
      h(
        'form',
        {
          id: 'login-form',
          class: 'card',
          onsubmit: (event) => {
            event.preventDefault();
            void onSubmit();
          },
        },
        h('h2', {}, 'Log in'),
        field('Username', username),
        field('Password', password),
        error,
        h('div', { class: 'actions' }, submit),
      ),
    ),
  );
  username.focus();
};
