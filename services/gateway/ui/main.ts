// Entry point of the web UI: finds out who is signed in and routes with the History API.
// The gateway answers every non-API path with index.html, so /login, /setup, /join,
// /terminal/<serverId> and /terminal/session/<sessionId> can be loaded (and reloaded) directly.
import { api, errorMessage, type User } from './api.js';
import type { App, Cleanup, Page } from './app.js';
import { h } from './dom.js';
import { joinPage, takeJoinToken } from './pages/join.js';
import { loginPage } from './pages/login.js';
import { recordingPage } from './pages/recording.js';
import { recordingsPage } from './pages/recordings.js';
import { serversPage } from './pages/servers.js';
import { setupPage } from './pages/setup.js';
import { sessionPage, terminalPage } from './pages/terminal.js';
import { usersPage } from './pages/users.js';
import { filesPage } from './pages/files.js';

// The setup link carries its one-time token in the fragment (never sent to a server or a
// log). Take it, then drop it from the address bar and the history entry.
let setupToken: string | undefined;
function takeSetupToken(): boolean {
  if (location.pathname !== '/setup' || location.hash.length <= 1) return false;
  setupToken = decodeURIComponent(location.hash.slice(1));
  history.replaceState(null, '', '/setup');
  return true;
}
takeSetupToken();
// Share links (/join#<token>) likewise; the join page redeems the token, after a login if needed.
takeJoinToken();

interface Route {
  pattern: RegExp;
  page: Page;
  /** Shown without a login. */
  public?: boolean;
}

const routes: Route[] = [
  { pattern: /^\/$/, page: serversPage },
  { pattern: /^\/terminal\/session\/([^/]+)$/, page: sessionPage },
  { pattern: /^\/terminal\/([^/]+)$/, page: terminalPage },
  { pattern: /^\/recordings$/, page: recordingsPage },
  { pattern: /^\/recordings\/([^/]+)$/, page: recordingPage },
  { pattern: /^\/join$/, page: joinPage },
  { pattern: /^\/users$/, page: usersPage },
  { pattern: /^\/files\/([^/]+)$/, page: filesPage },
  { pattern: /^\/login$/, page: loginPage, public: true },
  { pattern: /^\/setup$/, page: setupPage(() => setupToken), public: true },
];

const notFoundPage: Page = (root) => {
  document.title = 'Not found — Sallyport';
  root.append(
    h(
      'main',
      { class: 'narrow' },
      h('h1', {}, 'Not found'),
      h(
        'p',
        {},
        'There is no page here. ',
        h('a', { href: '/', 'data-link': true }, 'Go to the servers'),
      ),
    ),
  );
};

const root = document.getElementById('app') ?? document.body;
let user: User | null = null;
let cleanup: Cleanup | undefined;

const app: App = {
  get user() {
    return user;
  },
  setUser(next) {
    user = next;
  },
  navigate(path, options = {}) {
    if (options.replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    render();
  },
  loginRequired() {
    user = null;
    const here = location.pathname + location.search;
    app.navigate(here === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`, {
      replace: true,
    });
  },
};

function render(): void {
  const previous = cleanup;
  cleanup = undefined;
  previous?.();
  root.replaceChildren();

  const path = location.pathname;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (!route.public && !user) return app.loginRequired();
    const params = match.slice(1).map((p) => decodeURIComponent(p));
    cleanup =
      route.page(root, { app, params, query: new URLSearchParams(location.search) }) ?? undefined;
    return;
  }
  notFoundPage(root, { app, params: [], query: new URLSearchParams() });
}

// Links marked data-link navigate inside the app; modified clicks (new tab) stay with the browser.
document.addEventListener('click', (event) => {
  const link =
    event.target instanceof Element
      ? event.target.closest<HTMLAnchorElement>('a[data-link]')
      : null;
  if (
    !link ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.ctrlKey ||
    event.metaKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  event.preventDefault();
  app.navigate(link.pathname + link.search);
});
window.addEventListener('popstate', render);
// Opening the setup link in a tab already showing /setup changes only the fragment: no reload.
window.addEventListener('hashchange', () => {
  if (takeSetupToken() || takeJoinToken()) render();
});

async function start(): Promise<void> {
  try {
    user = await api.me();
  } catch (err) {
    root.replaceChildren(
      h(
        'main',
        { class: 'narrow' },
        h('h1', {}, 'Sallyport'),
        h(
          'p',
          { class: 'form-error', id: 'start-error' },
          `The gateway did not answer: ${errorMessage(err)}`,
        ),
        h('button', { type: 'button', onclick: () => void start() }, 'Try again'),
      ),
    );
    return;
  }
  // A fresh installation has nobody to log in as; point at the setup page instead.
  if (!user && location.pathname !== '/setup' && (await api.setupNeeded().catch(() => false))) {
    return app.navigate('/setup', { replace: true });
  }
  render();
}

void start();
