import { ApiError, api, errorMessage } from '../api.js';
import type { Page } from '../app.js';
import { h, setText } from '../dom.js';
import { appHeader } from './header.js';
import { sessionPath } from './terminal.js';

// A share link is /join#<token>: the token is in the fragment, which is never sent to a server.
// It is taken out of the address bar at once and kept for this tab only, so that it survives
// the detour through the login page but not the tab.
const STORAGE_KEY = 'sallyport.joinToken';
let memoryToken: string | undefined;

/** Takes a join token from the address bar (on /join#<token>); true when there was one. */
export function takeJoinToken(): boolean {
  if (location.pathname !== '/join' || location.hash.length <= 1) return false;
  let token: string;
  try {
    token = decodeURIComponent(location.hash.slice(1));
  } catch {
    token = location.hash.slice(1);
  }
  history.replaceState(null, '', '/join');
  memoryToken = token;
  try {
    sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    /* storage disabled: the token lives as long as this page */
  }
  return true;
}

function pendingToken(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}

function forgetToken(): void {
  memoryToken = undefined;
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing stored */
  }
}

/** /join: redeems the share link's token and opens the session it leads to. */
export const joinPage: Page = (root, { app }) => {
  document.title = 'Join a session — Sallyport';
  let disposed = false;
  const status = h('p', { id: 'join-status', role: 'status' }, 'Joining the shared session…');
  const error = h('p', { id: 'join-error', class: 'form-error', role: 'alert' });
  const back = h(
    'a',
    { id: 'join-back', href: '/', 'data-link': true, class: 'button', hidden: true },
    'Go to the servers',
  );
  root.append(
    appHeader(app),
    h(
      'main',
      { class: 'narrow' },
      h(
        'div',
        { class: 'card', id: 'join' },
        h('h2', {}, 'Join a shared session'),
        status,
        error,
        back,
      ),
    ),
  );
  const fail = (message: string): void => {
    status.hidden = true;
    setText(error, message);
    back.hidden = false;
  };

  const token = pendingToken();
  if (!token) {
    fail('This link has no token. Open the whole link you were sent, or ask for a new one.');
    return;
  }
  api.redeemShare(token).then(
    ({ sessionId }) => {
      forgetToken();
      if (!disposed) app.navigate(sessionPath(sessionId), { replace: true });
    },
    (err: unknown) => {
      if (disposed) return;
      // Logged out meanwhile: the token waits in this tab until after the login.
      if (err instanceof ApiError && err.status === 401) return app.loginRequired();
      forgetToken();
      fail(
        err instanceof ApiError && err.status === 410
          ? err.message
          : `Could not join: ${errorMessage(err)}`,
      );
    },
  );
  return () => {
    disposed = true;
  };
};
