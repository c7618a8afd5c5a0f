/**
 * The demo's session types, declared once: every sessionkit helper picks them up
 * (`requireSession()`, `Astro.locals.sessionkit.session`, `setSession()`, ...).
 */
import type {} from 'sessionkit';

declare module 'sessionkit' {
  interface SessionkitTypes {
    /** What a signed-in session holds: `setSession()` takes it, `requireSession()` returns it. */
    user: { userId: string; email: string; name: string; role: string; permissions: string[] };
    /** Every key a session may hold; before sign-in, none of the user's. */
    data: {
      userId?: string;
      email?: string;
      name?: string;
      role?: string;
      permissions?: string[];
      /** The dashboard counter. */
      count?: number;
    };
    /** Flash messages the layout shows once. */
    flash: { notice: string; error: string };
  }
}
