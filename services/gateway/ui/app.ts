// What every page gets: the signed-in user and navigation. Pages are plain functions that
// render into a root element and may return a cleanup (the terminal closes its socket there).
import type { User } from './api.js';

export interface App {
  /** The signed-in user, or null. */
  readonly user: User | null;
  setUser(user: User | null): void;
  /** Client-side navigation (History API); re-renders the page for `path`. */
  navigate(path: string, options?: { replace?: boolean }): void;
  /** The login session is gone: go to the login page, coming back here afterwards. */
  loginRequired(): void;
}

export interface PageContext {
  app: App;
  /** Path parameters, e.g. the server id of /terminal/<id>. */
  params: string[];
  query: URLSearchParams;
}

export type Cleanup = () => void;
export type Page = (root: HTMLElement, ctx: PageContext) => Cleanup | void;

/** A path inside this app that is safe to return to after login (no other origin). */
export function safeReturnPath(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')
    ? value
    : '/';
}
