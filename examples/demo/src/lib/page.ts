/**
 * Everything the layout shows from the session, read once in each page's own frontmatter and
 * passed down as a prop: the signed-in user, flash messages (consumed here, so they show once)
 * and the CSRF token for the page's forms.
 *
 * Session reads and writes must happen before sessionkit's middleware commits the session as
 * the response leaves. The page frontmatter always runs before that; keeping the session work
 * there (instead of in components) does not depend on how Astro schedules component rendering.
 */
import type { AstroGlobal } from 'astro';
import { getSession, hasPermission, hasRole } from 'sessionkit/server';
import type { DemoSession } from './auth.ts';

/** What the layout needs. */
export interface PageState {
  user: DemoSession | null;
  isAdmin: boolean;
  canReadReports: boolean;
  notice: string | undefined;
  error: string | undefined;
  /** The CSRF token for this page's forms (`''` when the page has none). */
  csrfToken: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Reads (and consumes) the flash messages and, when the page has forms or a user is signed in
 * (the sign-out button is a form), the CSRF token.
 */
export function pageState(astro: AstroGlobal, options: { forms?: boolean } = {}): PageState {
  const state = astro.locals.sessionkit;
  const user = getSession(astro);
  // Reading the token for an anonymous visitor sets sessionkit's small anonymous CSRF cookie (no
  // session, no store row), so only pages with forms ask for it: the landing page sets no cookie.
  const csrfToken = options.forms === true || user !== null ? state.csrfToken : '';
  return {
    user,
    isAdmin: hasRole('admin', astro),
    canReadReports: hasPermission('reports:read', astro),
    notice: text(state.session.flash('notice')),
    error: text(state.session.flash('error')),
    csrfToken,
  };
}
