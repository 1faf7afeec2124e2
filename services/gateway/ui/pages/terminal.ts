import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { ApiError, api, errorMessage, type Server } from '../api.js';
import type { Page } from '../app.js';
import { h, setText } from '../dom.js';
import { TerminalSocket, type SessionEnd } from '../terminal-socket.js';

type ViewState = 'loading' | 'connecting' | 'ready' | 'ended';

const RESIZE_DEBOUNCE_MS = 100;

/** Server text written into the terminal must not be able to send escape sequences. */
const printable = (text: string): string =>
  Array.from(text, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? ' ' : c; // C0, DEL and C1 controls
  }).join('');

/** /terminal/<serverId>: a full-size xterm attached to a new session on that server. */
export const terminalPage: Page = (root, { app, params }) => {
  const serverId = params[0] ?? '';
  let disposed = false;
  let socket: TerminalSocket | undefined;
  let server: Server | undefined;
  document.title = 'Terminal — Sallyport';

  const title = h('span', { id: 'terminal-title' }, 'Terminal');
  const statusText = h('span', { id: 'terminal-status-text' }, 'Loading…');
  const notice = h('span', { id: 'terminal-notice', class: 'notice' });
  const status = h(
    'div',
    { id: 'terminal-status', role: 'status', 'data-state': 'loading' },
    statusText,
    notice,
  );
  const disconnect = h('button', { id: 'terminal-disconnect', type: 'button' }, 'Disconnect');
  const reconnect = h(
    'button',
    { id: 'terminal-reconnect', type: 'button', class: 'primary', hidden: true },
    'Reconnect',
  );
  const container = h('div', { id: 'terminal' });
  const endedMessage = h('div', { id: 'terminal-ended-message' });
  const endedReconnect = h(
    'button',
    { id: 'terminal-ended-reconnect', type: 'button', class: 'primary' },
    'Reconnect',
  );
  const endedBack = h(
    'a',
    { id: 'terminal-ended-back', href: '/', 'data-link': true, class: 'button' },
    'Back to servers',
  );
  const ended = h(
    'div',
    { id: 'terminal-ended', role: 'alert', hidden: true },
    endedMessage,
    h('div', { class: 'actions' }, endedReconnect, endedBack),
  );
  const view = h(
    'div',
    { id: 'terminal-view', 'data-state': 'loading' },
    h(
      'header',
      { class: 'terminal-bar' },
      h('a', { id: 'terminal-back', href: '/', 'data-link': true, class: 'button' }, '← Servers'),
      title,
      status,
      h('span', { class: 'spacer' }),
      reconnect,
      disconnect,
    ),
    h('div', { class: 'terminal-area' }, container, ended),
  );
  root.append(view);

  const setState = (state: ViewState, text: string): void => {
    view.dataset.state = status.dataset.state = state;
    setText(statusText, text);
    setText(notice, '');
    disconnect.hidden = state === 'ended';
    reconnect.hidden = state !== 'ended' || server === undefined;
    endedReconnect.hidden = server === undefined;
    ended.hidden = state !== 'ended';
  };

  const term = new Terminal({
    cursorBlink: true,
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    scrollback: 5000,
    theme: {
      background: '#111418',
      foreground: '#d8dee9',
      cursor: '#d8dee9',
      selectionBackground: '#4c566a',
    },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(container);
  const refit = (): void => {
    // Throws or proposes nothing while the container has no size (e.g. a hidden tab).
    try {
      if (fit.proposeDimensions()) fit.fit();
    } catch {
      /* keep the current size */
    }
  };
  refit();

  term.onData((data) => socket?.sendInput(data));
  term.onBinary((data) => socket?.sendBinary(data));
  term.onResize(({ cols, rows }) => socket?.resize(cols, rows));
  term.attachCustomKeyEventHandler((event) => clipboardKeys(term, event));

  let resizeTimer: number | undefined;
  const onWindowResize = (): void => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(refit, RESIZE_DEBOUNCE_MS);
  };
  window.addEventListener('resize', onWindowResize);

  const showEnd = (end: SessionEnd): void => {
    socket = undefined;
    const line = `[session ended: ${end.message}]`;
    // Bold yellow, then hide the cursor: nothing typed here goes anywhere any more.
    term.write(`\r\n\x1b[1;33m${printable(line)}\x1b[0m\r\n\x1b[?25l`);
    setText(endedMessage, line);
    setState('ended', 'Session ended');
  };

  const connect = (target: Server): void => {
    term.reset();
    setState('connecting', `Connecting to ${target.username}@${target.host}:${target.port}…`);
    socket = new TerminalSocket(
      target.id,
      { cols: term.cols, rows: term.rows },
      {
        output: (data) => term.write(data),
        session: (message) => {
          setText(title, message.serverName);
          document.title = `${message.serverName} — Sallyport`;
        },
        ready: (message) => {
          const pinned = message.hostKeyPinned ? ' (new host key, now pinned)' : '';
          setState('ready', `Connected · host key ${message.hostKeyFingerprint}${pinned}`);
          term.focus();
        },
        error: (message) => setText(notice, message.message),
        ended: showEnd,
      },
    );
  };

  disconnect.addEventListener('click', () => {
    disconnect.disabled = true;
    setText(notice, 'Disconnecting…');
    socket?.disconnect();
  });
  const onReconnect = (): void => {
    disconnect.disabled = false;
    if (server) connect(server);
  };
  reconnect.addEventListener('click', onReconnect);
  endedReconnect.addEventListener('click', onReconnect);

  // Looking the server up first turns "unknown server" and "logged out" into clear answers,
  // which a refused WebSocket upgrade cannot give.
  api
    .getServer(serverId)
    .then((found) => {
      if (disposed) return;
      server = found;
      setText(title, found.name);
      document.title = `${found.name} — Sallyport`;
      connect(found);
    })
    .catch((err: unknown) => {
      if (disposed) return;
      if (err instanceof ApiError && err.status === 401) return app.loginRequired();
      setText(
        endedMessage,
        err instanceof ApiError && err.status === 404
          ? 'This server does not exist (any more).'
          : `Could not load the server: ${errorMessage(err)}`,
      );
      setState('ended', 'Not connected');
    });

  return () => {
    disposed = true;
    window.removeEventListener('resize', onWindowResize);
    window.clearTimeout(resizeTimer);
    // Leaving the page ends the session: the gateway closes the shell when its tab goes away.
    socket?.dispose();
    term.dispose();
  };
};

/**
 * Ctrl+Shift+C copies the selection and Ctrl+Shift+V pastes, as in desktop terminals (plain
 * Ctrl+C and Ctrl+V stay with the shell). Returns false for keys xterm must not handle.
 */
function clipboardKeys(term: Terminal, event: KeyboardEvent): boolean {
  if (!event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return true;
  if (event.code === 'KeyC') {
    // Chrome would otherwise open the element inspector.
    event.preventDefault();
    if (event.type === 'keydown' && term.hasSelection()) copy(term.getSelection());
    return false;
  }
  // Not handled by xterm and not prevented: the browser pastes into xterm's textarea, and
  // xterm's paste handler sends it (bracketed if the shell asked for that).
  if (event.code === 'KeyV') return false;
  return true;
}

function copy(text: string): void {
  if (navigator.clipboard?.writeText) {
    navigator.clipboard.writeText(text).catch(() => document.execCommand('copy'));
  } else {
    // Without the async API (no secure context), the copy event reaches xterm's own handler.
    document.execCommand('copy');
  }
}
