import {
  ApiError,
  api,
  errorMessage,
  type AuthType,
  type Server,
  type ServerAuth,
  type ServerInput,
} from '../api.js';
import { field, h, setText } from '../dom.js';
import { hostKeySection } from './host-key.js';

export interface ServerFormOptions {
  /** The server to edit; a new one is created when absent. */
  server?: Server;
  onSaved(server: Server): void;
  onCancel(): void;
  /** The login session is gone (a 401): the page goes to the login page. */
  onLoginRequired(): void;
}

// The API names a bad field in `error.details.field` ("host", "auth.privateKey", "tags.2"); this
// is where each one is shown.
const ERROR_SLOTS: Record<string, string> = {
  name: 'server-name',
  host: 'server-host',
  port: 'server-port',
  username: 'server-username',
  group: 'server-group',
  tags: 'server-tags',
  sftpRoots: 'server-sftp-roots',
  auth: 'server-auth',
  'auth.type': 'server-auth',
  'auth.password': 'server-password',
  'auth.privateKey': 'server-private-key',
  'auth.passphrase': 'server-passphrase',
};

/** The add/edit server form: password or private-key auth, group and comma-separated tags. */
export function serverForm(options: ServerFormOptions): HTMLFormElement {
  const existing = options.server;
  const input = (id: string, attrs: Record<string, string | number | boolean | undefined> = {}) =>
    h('input', { id, name: id, ...attrs });

  const name = input('server-name', { required: true, value: existing?.name, maxlength: 100 });
  const host = input('server-host', {
    required: true,
    value: existing?.host,
    placeholder: 'db-1.example.com',
    spellcheck: 'false',
  });
  const port = input('server-port', {
    type: 'number',
    min: 1,
    max: 65535,
    value: existing?.port ?? 22,
    required: true,
  });
  const username = input('server-username', {
    required: true,
    value: existing?.username,
    spellcheck: 'false',
    autocomplete: 'off',
  });
  const authPassword = input('server-auth-password', { type: 'radio', value: 'password' });
  const authKey = input('server-auth-key', { type: 'radio', value: 'key' });
  authPassword.name = authKey.name = 'server-auth-type';
  const password = input('server-password', { type: 'password', autocomplete: 'new-password' });
  const privateKey = h('textarea', {
    id: 'server-private-key',
    name: 'server-private-key',
    rows: 6,
    spellcheck: 'false',
    placeholder: '-----BEGIN OPENSSH PRIVATE KEY-----',
  });
  const keyFile = input('server-private-key-file', { type: 'file' });
  const passphrase = input('server-passphrase', { type: 'password', autocomplete: 'new-password' });
  const group = input('server-group', { value: existing?.group ?? undefined, maxlength: 100 });
  const tags = input('server-tags', { value: existing?.tags.join(', '), placeholder: 'prod, db' });
  const sftpEnabled = input('server-sftp-enabled', { type: 'checkbox' });
  const sftpReadOnly = input('server-sftp-read-only', { type: 'checkbox' });
  sftpEnabled.checked = existing?.sftpEnabled ?? true;
  sftpReadOnly.checked = existing?.sftpReadOnly ?? false;
  const sftpRoots = h('textarea', {
    id: 'server-sftp-roots',
    name: 'server-sftp-roots',
    rows: 3,
    spellcheck: 'false',
    placeholder: '/srv/shared\n/home/deploy/uploads',
  });
  sftpRoots.value = existing?.sftpRoots.join('\n') ?? '';
  const formError = h('div', { id: 'server-form-error', class: 'form-error', role: 'alert' });
  const submit = h(
    'button',
    { id: 'server-submit', type: 'submit', class: 'primary' },
    existing ? 'Save' : 'Add server',
  );
  const cancel = h(
    'button',
    { id: 'server-cancel', type: 'button', onclick: () => options.onCancel() },
    'Cancel',
  );

  const keep = (what: string) => (existing ? `Leave empty to keep the stored ${what}.` : undefined);
  const passwordSection = h(
    'div',
    { id: 'server-password-section' },
    field('Password', password, { hint: keep('password'), errorId: 'server-password-error' }),
  );
  const keySection = h(
    'div',
    { id: 'server-key-section' },
    field('Private key (OpenSSH or PEM)', privateKey, {
      hint: keep('key'),
      errorId: 'server-private-key-error',
    }),
    field('…or load it from a file', keyFile),
    field('Passphrase (if the key is encrypted)', passphrase, {
      hint: existing?.hasPassphrase
        ? 'A passphrase is stored; to change it, paste the key again.'
        : undefined,
      errorId: 'server-passphrase-error',
    }),
  );

  const authType = (): AuthType => (authKey.checked ? 'key' : 'password');
  const showAuth = (): void => {
    passwordSection.hidden = authType() !== 'password';
    keySection.hidden = authType() !== 'key';
  };
  (existing?.authType === 'key' ? authKey : authPassword).checked = true;
  authPassword.addEventListener('change', showAuth);
  authKey.addEventListener('change', showAuth);
  showAuth();
  keyFile.addEventListener('change', () => {
    const file = keyFile.files?.[0];
    if (file) void file.text().then((text) => (privateKey.value = text));
  });

  const clearErrors = (): void => {
    setText(formError, '');
    for (const el of form.querySelectorAll('.field-error')) setText(el, '');
  };
  const showError = (apiField: string | undefined, message: string): void => {
    const slot =
      apiField === undefined
        ? undefined
        : (ERROR_SLOTS[apiField] ?? ERROR_SLOTS[apiField.replace(/\.\d+$/, '')]);
    const target = slot === undefined ? null : form.querySelector(`#${slot}-error`);
    if (!target || apiField === undefined) return setText(formError, message);
    // "host: must not begin with "-"" reads better next to the host field without the prefix.
    setText(
      target,
      message.startsWith(`${apiField}: `) ? message.slice(apiField.length + 2) : message,
    );
  };

  /** What to send; undefined (with the error shown) when the form itself is incomplete. */
  const collect = (): ServerInput | undefined => {
    const portNumber = Number(port.value);
    if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
      showError('port', 'must be a whole number from 1 to 65535');
      return undefined;
    }
    const body: ServerInput = {
      name: name.value,
      host: host.value,
      port: portNumber,
      username: username.value,
      group: group.value.trim() === '' ? null : group.value,
      tags: tags.value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== ''),
      sftpEnabled: sftpEnabled.checked,
      sftpReadOnly: sftpReadOnly.checked,
      sftpRoots: sftpRoots.value
        .split('\n')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    };
    const auth: ServerAuth =
      authType() === 'password'
        ? { type: 'password', password: password.value }
        : {
            type: 'key',
            privateKey: privateKey.value,
            ...(passphrase.value ? { passphrase: passphrase.value } : {}),
          };
    const secretGiven =
      auth.type === 'password' ? auth.password !== '' : auth.privateKey.trim() !== '';
    if (existing && !secretGiven) {
      if (auth.type !== existing.authType) {
        showError(
          auth.type === 'password' ? 'auth.password' : 'auth.privateKey',
          'is needed when switching the authentication type',
        );
        return undefined;
      }
      return body; // no `auth`: the gateway keeps the stored secret
    }
    return { ...body, auth };
  };

  const onSubmit = async (): Promise<void> => {
    clearErrors();
    const body = collect();
    if (!body) return;
    submit.disabled = true;
    try {
      options.onSaved(
        existing ? await api.updateServer(existing.id, body) : await api.createServer(body),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return options.onLoginRequired();
      if (err instanceof ApiError) showError(err.field, err.message);
      else setText(formError, errorMessage(err));
    } finally {
      submit.disabled = false;
    }
  };

  const form = h(
    'form',
    {
      id: 'server-form',
      class: 'card',
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        void onSubmit();
      },
    },
    h('h2', {}, existing ? `Edit ${existing.name}` : 'Add server'),
    h(
      'div',
      { class: 'grid' },
      field('Name', name, { errorId: 'server-name-error' }),
      field('Host', host, { errorId: 'server-host-error' }),
      field('Port', port, { errorId: 'server-port-error' }),
      field('SSH user', username, { errorId: 'server-username-error' }),
      field('Group (optional)', group, { errorId: 'server-group-error' }),
      field('Tags (comma-separated)', tags, { errorId: 'server-tags-error' }),
    ),
    h(
      'fieldset',
      { class: 'auth' },
      h('legend', {}, 'Authentication'),
      h('label', { class: 'inline' }, authPassword, ' Password'),
      h('label', { class: 'inline' }, authKey, ' Private key'),
      h('div', { class: 'field-error', id: 'server-auth-error', role: 'alert' }),
      passwordSection,
      keySection,
    ),
    h(
      'fieldset',
      { class: 'auth', id: 'server-sftp' },
      h('legend', {}, 'Files (SFTP)'),
      h('label', { class: 'inline' }, sftpEnabled, ' Allow file access'),
      h('label', { class: 'inline' }, sftpReadOnly, ' Read-only'),
      field('Allowed folders, one per line (empty: everything the SSH user can reach)', sftpRoots, {
        errorId: 'server-sftp-roots-error',
      }),
    ),
    existing ? hostKeySection(existing.id, () => options.onLoginRequired()) : null,
    formError,
    h('div', { class: 'actions' }, submit, cancel),
  );
  return form;
}
