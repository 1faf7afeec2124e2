import { api, errorMessage } from '../api.js';
import type { Page } from '../app.js';
import { field, h, setText } from '../dom.js';

const MIN_PASSWORD_LENGTH = 12;

/**
 * /setup: creates the first admin with the one-time token from the setup link
 * (`/setup#<token>`). main.ts has already taken the token out of the address bar.
 */
export function setupPage(setupToken: () => string | undefined): Page {
  return (root, { app }) => {
    const token = setupToken();
    document.title = 'Set up — Sallyport';
    const main = h('main', { class: 'narrow' }, h('h1', {}, 'Sallyport'));
    root.append(main);

    if (!token) {
      main.append(
        h(
          'div',
          { class: 'card', id: 'setup-no-token' },
          h('h2', {}, 'First-time setup'),
          h(
            'p',
            {},
            'Open the setup link that Sallyport printed when it first started (it ends in /setup#…).',
          ),
          h('p', {}, h('a', { href: '/login', 'data-link': true }, 'Go to the login page')),
        ),
      );
      return;
    }

    const username = h('input', {
      id: 'setup-username',
      name: 'username',
      autocomplete: 'username',
      required: true,
      value: 'admin',
    });
    const password = h('input', {
      id: 'setup-password',
      name: 'password',
      type: 'password',
      autocomplete: 'new-password',
      required: true,
      minlength: MIN_PASSWORD_LENGTH,
    });
    const confirm = h('input', {
      id: 'setup-password-confirm',
      name: 'confirm',
      type: 'password',
      autocomplete: 'new-password',
      required: true,
    });
    const submit = h(
      'button',
      { id: 'setup-submit', type: 'submit', class: 'primary' },
      'Create admin',
    );
    const error = h('div', { id: 'setup-error', class: 'form-error', role: 'alert' });

    const onSubmit = async (): Promise<void> => {
      setText(error, '');
      if (password.value.length < MIN_PASSWORD_LENGTH)
        return setText(error, `The password must be at least ${MIN_PASSWORD_LENGTH} characters.`);
      if (password.value !== confirm.value) return setText(error, 'The passwords do not match.');
      submit.disabled = true;
      try {
        app.setUser(await api.setup(token, username.value.trim(), password.value));
        app.navigate('/', { replace: true });
      } catch (err) {
        setText(error, errorMessage(err));
      } finally {
        submit.disabled = false;
      }
    };

    main.append(
      h(
        'form',
        {
          id: 'setup-form',
          class: 'card',
          onsubmit: (event) => {
            event.preventDefault();
            void onSubmit();
          },
        },
        h('h2', {}, 'Create the first admin'),
        field('Username', username),
        field('Password', password, { hint: `At least ${MIN_PASSWORD_LENGTH} characters.` }),
        field('Repeat password', confirm),
        error,
        h('div', { class: 'actions' }, submit),
      ),
    );
    password.focus();
  };
}
