import { api } from '../api.js';
import type { App } from '../app.js';
import { h } from '../dom.js';

/** The bar on top of the signed-in pages: home link, navigation, who is signed in, Log out. */
export function appHeader(app: App): HTMLElement {
  const user = app.user;
  const logout = h('button', { id: 'logout', type: 'button' }, 'Log out');
  logout.addEventListener('click', () => {
    logout.disabled = true;
    // Whatever the answer (even "not logged in"), the user wants to be logged out here.
    void api
      .logout()
      .catch(() => undefined)
      .finally(() => {
        app.setUser(null);
        app.navigate('/login', { replace: true });
      });
  });
  return h(
    'header',
    { class: 'topbar' },
    h('a', { href: '/', 'data-link': true, class: 'brand' }, 'Sallyport'),
    h(
      'nav',
      { class: 'nav' },
      h('a', { id: 'nav-servers', href: '/', 'data-link': true }, 'Servers'),
      user?.role === 'admin'
        ? h('a', { id: 'nav-users', href: '/users', 'data-link': true }, 'Users')
        : null,
      h('a', { id: 'nav-recordings', href: '/recordings', 'data-link': true }, 'Recordings'),
    ),
    h('span', { class: 'spacer' }),
    user
      ? h(
          'span',
          { id: 'current-user', class: 'muted' },
          user.displayName || user.username,
          user.role === 'admin' ? ' (admin)' : '',
        )
      : null,
    logout,
  );
}
