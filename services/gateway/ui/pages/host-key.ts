import { ApiError, api, errorMessage, type HostKeyInfo } from '../api.js';
import { h, setText } from '../dom.js';
import { address, dateTime } from '../format.js';

/** What forgetting the key leads to under the gateway's host-key policy, as a clause. */
const afterForgetting = (policy: HostKeyInfo['policy']): string =>
  policy === 'tofu'
    ? 'the next connection will pin whatever key the server presents'
    : 'connections will be refused until a key is pinned again';

const isLoggedOut = (err: unknown): boolean => err instanceof ApiError && err.status === 401;

/**
 * The server form's "Host key" fieldset: the key pinned for the server's address, with buttons
 * to forget it and to pin one by hand. Its buttons act at once; the form's Save is not involved.
 */
export function hostKeySection(serverId: string, onLoginRequired: () => void): HTMLFieldSetElement {
  const status = h(
    'div',
    { id: 'host-key-status', role: 'status' },
    h('span', { class: 'muted' }, 'Loading the pinned host key…'),
  );
  const error = h('div', { id: 'host-key-error', class: 'form-error', role: 'alert' });
  const forget = h(
    'button',
    { id: 'host-key-forget', type: 'button', class: 'danger' },
    'Forget this key',
  );
  const input = h('textarea', {
    id: 'host-key-input',
    name: 'host-key-input',
    rows: 2,
    spellcheck: 'false',
    placeholder: 'ssh-ed25519 AAAA… (a line of the server’s .pub file or of ssh-keyscan output)',
  });
  const inputHint = h('div', { class: 'hint' });
  const inputError = h('div', { class: 'field-error', id: 'host-key-input-error', role: 'alert' });
  const pin = h('button', { id: 'host-key-pin', type: 'button' }, 'Pin this key');

  let shown: HostKeyInfo | undefined;
  // Only the latest load may draw: a slow answer must not overwrite a newer one.
  let generation = 0;

  const render = (info: HostKeyInfo): void => {
    shown = info;
    const where = address(info.host, info.port);
    const key = info.hostKey;
    if (key) {
      status.replaceChildren(
        h(
          'div',
          {},
          h('span', { id: 'host-key-type' }, key.keyType),
          ' ',
          h('code', { id: 'host-key-fingerprint' }, key.fingerprint),
        ),
        h(
          'div',
          { class: 'hint', id: 'host-key-scope' },
          'Pinned ',
          h('time', { id: 'host-key-pinned-at', datetime: key.pinnedAt }, dateTime(key.pinnedAt)),
          `. It applies to every server at ${where}.`,
        ),
        h(
          'div',
          { class: 'actions' },
          forget,
          h('span', { class: 'hint' }, `If you forget it, ${afterForgetting(info.policy)}.`),
        ),
      );
      setText(inputHint, 'Pinning another key replaces this one.');
    } else {
      status.replaceChildren(
        h(
          'div',
          { id: 'host-key-none' },
          `No host key is pinned for ${where}. `,
          info.policy === 'tofu'
            ? 'The next connection will pin whatever key the server presents.'
            : 'Connections are refused until one is pinned.',
        ),
      );
      setText(inputHint, 'Pin the server’s key here to trust it before anyone connects.');
    }
  };

  const refresh = async (): Promise<void> => {
    const mine = ++generation;
    try {
      const info = await api.serverHostKey(serverId);
      if (mine !== generation) return;
      setText(error, '');
      render(info);
    } catch (err) {
      if (mine !== generation) return;
      if (isLoggedOut(err)) return onLoginRequired();
      // What was shown may no longer be true: show only the failure.
      shown = undefined;
      status.replaceChildren();
      setText(error, `Cannot load the host key: ${errorMessage(err)}`);
    }
  };

  const onForget = async (): Promise<void> => {
    if (!shown?.hostKey) return;
    const where = address(shown.host, shown.port);
    const question = `Forget the host key pinned for ${where}? Then ${afterForgetting(shown.policy)}.`;
    if (!window.confirm(question)) return;
    setText(error, '');
    forget.disabled = true;
    try {
      await api.forgetServerHostKey(serverId);
    } catch (err) {
      if (isLoggedOut(err)) return onLoginRequired();
      // 404: it was already gone (forgotten elsewhere), which the refresh shows.
      if (!(err instanceof ApiError && err.status === 404)) {
        setText(error, errorMessage(err));
        return;
      }
    } finally {
      forget.disabled = false;
    }
    await refresh();
  };

  const onPin = async (): Promise<void> => {
    setText(error, '');
    setText(inputError, '');
    // The gateway reads the key (and skips ssh-keyscan's "# host:22 SSH-2.0-…" lines).
    const publicKey = input.value.trim();
    if (publicKey === '') return setText(inputError, 'Paste the server’s public key first.');
    pin.disabled = true;
    try {
      await api.pinServerHostKey(serverId, publicKey);
      input.value = '';
    } catch (err) {
      if (isLoggedOut(err)) return onLoginRequired();
      if (err instanceof ApiError && err.field === 'publicKey') {
        // "publicKey: not an OpenSSH public key" reads better under the box without the prefix.
        const prefix = 'publicKey: ';
        setText(
          inputError,
          err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message,
        );
      } else {
        setText(error, errorMessage(err));
      }
      return;
    } finally {
      pin.disabled = false;
    }
    await refresh();
  };

  forget.addEventListener('click', () => void onForget());
  pin.addEventListener('click', () => void onPin());
  void refresh();

  return h(
    'fieldset',
    { class: 'auth host-key', id: 'server-host-key' },
    h('legend', {}, 'Host key'),
    h('div', { class: 'hint' }, 'Changes here take effect at once, without Save.'),
    status,
    error,
    h(
      'div',
      { class: 'field' },
      h('label', { for: input.id }, 'Pin a key by hand'),
      input,
      inputHint,
      inputError,
    ),
    h('div', { class: 'actions' }, pin),
  );
}
