import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import type { Participant, Role } from '@sallyport/protocol';
import { ApiError, api, errorMessage } from '../api.js';
import type { Cleanup, Page, PageContext } from '../app.js';
import { h, setText } from '../dom.js';
import { TerminalSocket, type SessionEnd, type SessionTarget } from '../terminal-socket.js';
import { participantRows } from './participants.js';
import { openShareDialog } from './share-dialog.js';

type ViewState = 'loading' | 'connecting' | 'ready' | 'reconnecting' | 'ended';

const RESIZE_DEBOUNCE_MS = 100;
// How the terminal and the status line word an ending. Two are not the session's own: this
// browser was removed from it, or it was never opened.
const ENDED = { prefix: 'session ended', status: 'Session ended' };
const ENDINGS: Partial<Record<SessionEnd['reason'], typeof ENDED>> = {
  removed: { prefix: 'removed from the session', status: 'Removed from the session' },
  refused: { prefix: 'session not opened', status: 'Not connected' },
};

/** Server text written into the terminal must not be able to send escape sequences. */
const printable = (text: string): string =>
  Array.from(text, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? ' ' : c; // C0, DEL and C1 controls
  }).join('');

/** The address of a running session: reloading it attaches again instead of opening a new one. */
export const sessionPath = (sessionId: string): string =>
  `/terminal/session/${encodeURIComponent(sessionId)}`;

/** /terminal/<serverId>: a full-size xterm on a new session on that server. */
export const terminalPage: Page = (root, ctx) => terminalView(root, ctx, 'server');

/** /terminal/session/<sessionId>: attached to a running session (resumed, shared or invited). */
export const sessionPage: Page = (root, ctx) => terminalView(root, ctx, 'session');

function terminalView(
  root: HTMLElement,
  { app, params }: PageContext,
  kind: 'server' | 'session',
): Cleanup {
  let disposed = false;
  let socket: TerminalSocket | undefined;
  let serverId = kind === 'server' ? (params[0] ?? '') : undefined;
  let sessionId = kind === 'session' ? (params[0] ?? '') : undefined;
  /** This user's role; a new session is its opener's from the start. */
  let role: Role | undefined = kind === 'server' ? 'owner' : undefined;
  let state: ViewState = 'loading';
  let participants: Participant[] = [];
  let requests: Array<{ userId: string; username: string }> = [];
  let controlRequested = false;
  let shareDialog: HTMLDialogElement | undefined;
  /** Whether the user opened or closed the people panel themselves. */
  let panelChoice: boolean | undefined;
  document.title = 'Terminal — Sallyport';

  // ---- the page ----
  const title = h('span', { id: 'terminal-title' }, 'Terminal');
  const statusText = h('span', { id: 'terminal-status-text' }, 'Loading…');
  const notice = h('span', { id: 'terminal-notice', class: 'notice' });
  const status = h(
    'div',
    { id: 'terminal-status', role: 'status', 'data-state': 'loading' },
    statusText,
    notice,
  );
  const viewOnly = h(
    'span',
    {
      id: 'view-only',
      class: 'badge view-only',
      hidden: true,
      title: 'You can watch but not type',
    },
    'View only',
  );
  const controlBadge = h(
    'span',
    { id: 'control-badge', class: 'badge control', hidden: true },
    'You have control',
  );
  const askControl = h(
    'button',
    { id: 'control-request', type: 'button', hidden: true },
    'Ask for control',
  );
  const peopleToggle = h(
    'button',
    {
      id: 'participants-toggle',
      type: 'button',
      hidden: true,
      'aria-controls': 'participants-panel',
    },
    'People',
  );
  const share = h('button', { id: 'share-button', type: 'button', hidden: true }, 'Share');
  const newSession = h(
    'button',
    { id: 'terminal-reconnect', type: 'button', class: 'primary', hidden: true },
    'New session',
  );
  const detach = h(
    'button',
    { id: 'detach', type: 'button', title: 'Leave the session running and go back to the list' },
    'Detach',
  );
  const endSession = h(
    'button',
    { id: 'end-session', type: 'button', class: 'danger', hidden: true },
    'End session',
  );

  const requestText = h('span', { id: 'control-request-text' });
  const requestMore = h('span', { id: 'control-request-more', class: 'muted' });
  const grant = h('button', { id: 'control-grant', type: 'button', class: 'primary' }, 'Grant');
  const deny = h('button', { id: 'control-deny', type: 'button' }, 'Deny');
  const requestBar = h(
    'div',
    { id: 'control-requests', role: 'alert', hidden: true },
    requestText,
    requestMore,
    grant,
    deny,
  );

  const container = h('div', { id: 'terminal' });
  const endedMessage = h('div', { id: 'terminal-ended-message' });
  const endedNew = h(
    'button',
    { id: 'terminal-ended-reconnect', type: 'button', class: 'primary' },
    'New session',
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
    h('div', { class: 'actions' }, endedNew, endedBack),
  );
  const area = h('div', { class: 'terminal-area' }, container, ended);
  const peopleList = h('ul', { id: 'participants', class: 'plain-list' });
  const peopleClose = h(
    'button',
    { type: 'button', class: 'link', 'aria-label': 'Hide the people panel' },
    '×',
  );
  const peoplePanel = h(
    'aside',
    { id: 'participants-panel', hidden: true, 'aria-label': 'People in this session' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'In this session'), peopleClose),
    peopleList,
  );
  const view = h(
    'div',
    { id: 'terminal-view', 'data-state': 'loading' },
    h(
      'header',
      { class: 'terminal-bar' },
      h('a', { id: 'terminal-back', href: '/', 'data-link': true, class: 'button' }, '← Servers'),
      title,
      viewOnly,
      controlBadge,
      status,
      h('span', { class: 'spacer' }),
      askControl,
      peopleToggle,
      share,
      newSession,
      detach,
      endSession,
    ),
    requestBar,
    h('div', { class: 'terminal-body' }, area, peoplePanel),
  );
  root.append(view);

  const isOwner = (): boolean => role === 'owner';
  const canStartNew = (): boolean => serverId !== undefined && isOwner();

  const updateControls = (): void => {
    const over = state === 'ended';
    view.dataset.role = role ?? '';
    endSession.hidden = over || !isOwner() || state === 'loading';
    detach.hidden = over;
    share.hidden = over || !isOwner() || sessionId === undefined;
    askControl.hidden = over || role !== 'view' || state !== 'ready';
    askControl.disabled = controlRequested;
    setText(askControl, controlRequested ? 'Control requested…' : 'Ask for control');
    viewOnly.hidden = over || role !== 'view';
    controlBadge.hidden = over || role !== 'control';
    newSession.hidden = !over || !canStartNew();
    endedNew.hidden = !canStartNew();
    ended.hidden = !over;
    peopleToggle.hidden = over || participants.length === 0;
    setText(peopleToggle, `People · ${participants.length}`);
    peopleToggle.setAttribute('aria-expanded', String(!peoplePanel.hidden));
  };

  const setState = (next: ViewState, text: string): void => {
    state = next;
    view.dataset.state = status.dataset.state = next;
    setText(statusText, text);
    setText(notice, '');
    updateControls();
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
  /** The owner's terminal fits its window; everyone else's follows the session's size. */
  const fitsWindow = (): boolean => role === 'owner';
  const refit = (): void => {
    if (!fitsWindow()) return;
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
  term.onResize(({ cols, rows }) => {
    if (fitsWindow()) socket?.resize(cols, rows);
  });
  term.attachCustomKeyEventHandler((event) => clipboardKeys(term, event));

  // The area changes size with the window, the people panel and the control-request bar.
  let resizeTimer: number | undefined;
  const areaSize = new ResizeObserver(() => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(refit, RESIZE_DEBOUNCE_MS);
  });
  areaSize.observe(area);

  // ---- rendering in stream order ----
  // xterm parses writes asynchronously. A snapshot must replace the screen only after
  // everything written before it, and nothing after it may be written first: output arriving
  // meanwhile is held, then written behind the snapshot.
  let held: Array<() => void> | undefined;
  const inOrder = (step: () => void): void => {
    if (held) held.push(step);
    else step();
  };
  const showSnapshot = (
    snapshot: { cols: number; rows: number; data: string },
    rendered: () => void,
  ): void => {
    const apply = (): void => {
      term.reset();
      term.resize(snapshot.cols, snapshot.rows);
      term.write(snapshot.data, rendered);
      refit();
    };
    if (held) return void held.push(apply);
    held = [];
    term.write('', () => {
      apply();
      const steps = held ?? [];
      held = undefined;
      for (const step of steps) step();
    });
  };

  // ---- roles and people ----
  const applyRole = (): void => {
    const viewing = role === 'view';
    term.options.disableStdin = viewing;
    term.options.cursorBlink = !viewing;
    container.classList.toggle('follow', !fitsWindow());
    if (role !== 'view') controlRequested = false;
    refit();
    updateControls();
  };

  const renderRequests = (): void => {
    const first = requests[0];
    requestBar.hidden = !first || !isOwner() || state === 'ended';
    if (!first) return;
    requestBar.dataset.userId = first.userId;
    setText(requestText, `${first.username} asks for control`);
    setText(requestMore, requests.length > 1 ? `(+${requests.length - 1} more)` : '');
  };
  const answerRequest = (granted: boolean): void => {
    const first = requests.shift();
    if (first)
      socket?.control({
        type: granted ? 'control-grant' : 'control-deny',
        userId: first.userId,
      });
    renderRequests();
  };
  grant.addEventListener('click', () => answerRequest(true));
  deny.addEventListener('click', () => answerRequest(false));

  const renderPeople = (): void => {
    peopleList.replaceChildren(
      ...participantRows(participants, {
        me: app.user?.id,
        isOwner: isOwner(),
        grant: (userId) => socket?.control({ type: 'control-grant', userId }),
        revoke: (userId) => socket?.control({ type: 'control-revoke', userId }),
      }),
    );
    // Shown by itself once someone else is here, unless the user decided otherwise.
    peoplePanel.hidden = state === 'ended' || !(panelChoice ?? participants.length > 1);
    updateControls();
  };
  peopleToggle.addEventListener('click', () => {
    panelChoice = peoplePanel.hidden;
    renderPeople();
  });
  peopleClose.addEventListener('click', () => {
    panelChoice = false;
    renderPeople();
  });

  // ---- the session ----
  const showEnd = (end: SessionEnd): void => {
    socket = undefined;
    const { prefix, status } = ENDINGS[end.reason] ?? ENDED;
    const line = `[${prefix}: ${end.message}]`;
    // Bold yellow, then hide the cursor: nothing typed here goes anywhere any more.
    inOrder(() => term.write(`\r\n\x1b[1;33m${printable(line)}\x1b[0m\r\n\x1b[?25l`));
    setText(endedMessage, line);
    shareDialog?.close();
    requests = [];
    renderRequests();
    setState('ended', status);
    renderPeople();
  };

  const connect = (target: SessionTarget): void => {
    const current = new TerminalSocket(target, {
      output: (data, rendered) => inOrder(() => term.write(data, rendered)),
      snapshot: (snapshot, rendered) => {
        showSnapshot(snapshot, rendered);
        const wasReconnecting = state === 'reconnecting';
        setState(
          'ready',
          role === 'owner'
            ? 'Connected · session resumed'
            : role === 'control'
              ? 'Connected · you have control'
              : 'Connected · watching',
        );
        if (wasReconnecting) setText(notice, 'Reconnected.');
        if (role !== 'view') term.focus();
      },
      sessionResize: (cols, rows) => {
        if (!fitsWindow()) inOrder(() => term.write('', () => term.resize(cols, rows)));
      },
      session: (message) => {
        sessionId = message.id;
        serverId = message.serverId ?? undefined;
        role = message.role;
        setText(title, message.serverName);
        document.title = `${message.serverName} — Sallyport`;
        // From now on this address resumes the session rather than opening another.
        if (!message.attached && kind === 'server')
          history.replaceState(null, '', sessionPath(message.id));
        applyRole();
        if (message.attached && state !== 'reconnecting')
          setState('connecting', `Attaching to the session on ${message.serverName}…`);
      },
      ready: (message) => {
        const pinned = message.hostKeyPinned ? ' (new host key, now pinned)' : '';
        setState('ready', `Connected · host key ${message.hostKeyFingerprint}${pinned}`);
        term.focus();
      },
      participants: (list) => {
        participants = list;
        const present = new Set(list.filter((p) => p.attachments > 0).map((p) => p.userId));
        requests = requests.filter((r) => present.has(r.userId));
        renderRequests();
        renderPeople();
      },
      controlRequest: (request) => {
        if (!requests.some((r) => r.userId === request.userId)) requests.push(request);
        renderRequests();
      },
      role: (next) => {
        const before = role;
        role = next;
        applyRole();
        renderPeople();
        if (next === 'control') {
          setText(notice, 'You have control now: what you type goes to the shell.');
          term.focus();
        } else if (next === 'view' && before === 'control') {
          setText(notice, 'The owner took back control; you are watching.');
        }
      },
      controlDenied: () => {
        controlRequested = false;
        updateControls();
        setText(notice, 'The owner declined your request for control.');
      },
      error: (message) => setText(notice, message.message),
      reconnecting: ({ attempt, delayMs, wasLive }) => {
        const when = `attempt ${attempt}, in ${Math.ceil(delayMs / 100) / 10} s`;
        setState(
          'reconnecting',
          wasLive
            ? `Connection lost; reconnecting… (${when})`
            : `Could not attach yet; trying again… (${when})`,
        );
        // Whether the session is still there at all: its owner (or an admin) may ask.
        const id = sessionId;
        if (id === undefined || (wasLive && (attempt < 2 || !isOwner()))) return;
        api.getSession(id).then(
          (found) => {
            if (disposed || socket !== current || found.status !== 'ended') return;
            current.dispose();
            if (found.userId === app.user?.id) role = 'owner';
            serverId ??= found.serverId ?? undefined;
            if (found.serverName) setText(title, found.serverName);
            showEnd({
              reason: 'closed',
              message: found.endMessage ?? 'the session has ended',
              code: null,
              signal: null,
            });
          },
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 401 && !disposed) app.loginRequired();
          },
        );
      },
      ended: showEnd,
    });
    socket = current;
  };

  askControl.addEventListener('click', () => {
    if (!socket?.control({ type: 'control-request' })) return;
    controlRequested = true;
    updateControls();
    setText(notice, 'Asked the owner for control…');
  });

  share.addEventListener('click', () => {
    if (shareDialog || sessionId === undefined) return;
    shareDialog = openShareDialog({
      app,
      sessionId,
      parent: view,
      onClose: () => {
        shareDialog = undefined;
        if (!disposed && state !== 'ended') term.focus();
      },
    });
  });

  detach.addEventListener('click', () => {
    // The session goes on; its owner finds it under Active sessions.
    socket?.dispose();
    socket = undefined;
    app.navigate('/');
  });

  endSession.addEventListener('click', () => {
    endSession.disabled = true;
    setText(notice, 'Ending the session…');
    if (socket?.endSession()) return;
    // No live connection to say it on (connecting, reconnecting): end it over the API.
    socket?.dispose();
    socket = undefined;
    const id = sessionId;
    const done = (message: string): void =>
      showEnd({ reason: 'closed', message, code: null, signal: null });
    if (id === undefined) return done('disconnected before the session opened');
    api.endSession(id).then(
      () => done('the session was ended by its owner'),
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) return app.loginRequired();
        done(`could not end the session: ${errorMessage(err)}`);
      },
    );
  });

  const startNew = (): void => {
    if (serverId !== undefined) app.navigate(`/terminal/${encodeURIComponent(serverId)}`);
  };
  newSession.addEventListener('click', startNew);
  endedNew.addEventListener('click', startNew);

  if (kind === 'server') {
    // Looking the server up first gives the title and the address to show while connecting, and
    // turns "logged out" into a login page, which a refused WebSocket upgrade cannot give.
    const id = serverId ?? '';
    api
      .getServer(id)
      .then((found) => {
        if (disposed) return;
        setText(title, found.name);
        document.title = `${found.name} — Sallyport`;
        setState('connecting', `Connecting to ${found.username}@${found.host}:${found.port}…`);
        connect({ serverId: found.id, cols: term.cols, rows: term.rows });
      })
      .catch((err: unknown) => {
        if (disposed) return;
        if (err instanceof ApiError && err.status === 401) return app.loginRequired();
        serverId = undefined;
        setText(
          endedMessage,
          err instanceof ApiError && err.status === 404
            ? 'This server does not exist (any more).'
            : `Could not load the server: ${errorMessage(err)}`,
        );
        setState('ended', 'Not connected');
      });
  } else {
    setState('connecting', 'Attaching to the session…');
    connect({ sessionId: sessionId ?? '' });
  }

  return () => {
    disposed = true;
    areaSize.disconnect();
    window.clearTimeout(resizeTimer);
    shareDialog?.close();
    // Leaving the page detaches: the session goes on, and can be resumed from the server list.
    socket?.dispose();
    term.dispose();
  };
}

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
