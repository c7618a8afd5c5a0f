/**
 * The anonymous CSRF cookie: a random id, in a small cookie of its own, that the CSRF tokens of
 * forms shown before any session exists (sign in, sign up, a contact form) are bound to. Showing
 * such a form then costs no session: no store row, no sealed cookie. The session becomes real
 * only when the app puts data or a flash message in it.
 *
 * - The id is 32 random bytes (base64url); it carries nothing and is checked only as the MAC
 *   input of a token, so it need not be sealed.
 * - The cookie follows the session cookie: named `<session cookie>-csrf` (so `__Host-session-csrf`
 *   by default, keeping the `__Host-` prefix that stops a sibling subdomain from planting it),
 *   with its `Secure`, `Path`, `Domain`, `SameSite` and `Partitioned` settings; always HttpOnly.
 * - It lives {@link anonymousCookieMaxAgeSeconds} (2 hours), renewed each time a form is shown,
 *   and is cleared when the session id changes (sign-in, sign-out, a privilege change), when
 *   the tokens bound to it stop working.
 *
 * @module
 */
import { stringifySetCookie } from 'cookie';
import { encodeBase64Url } from '../core/base64url.ts';
import { type CookieSettings, parseCookieHeader } from '../core/cookie.ts';
import type { RandomBytes } from '../core/runtime.ts';

/** How long the anonymous CSRF cookie lives after the last form shown with it: 2 hours. */
export const anonymousCookieMaxAgeSeconds = 2 * 60 * 60;

/** 32 bytes in canonical base64url: 42 free characters, then one whose two low bits are zero. */
const idPattern = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const identity = (value: string): string => value;

/**
 * @internal The anonymous CSRF cookie of one app, derived from its session cookie settings.
 */
export interface AnonymousCsrfCookie {
  /** The cookie name: the session cookie's name followed by `-csrf`. */
  readonly name: string;
  /** The id a `Cookie` header carries, or `undefined` when it has none or a malformed one. */
  read(cookieHeader: string | null): string | undefined;
  /** A fresh random id. */
  newId(): string;
  /** The `Set-Cookie` value that stores `id` for {@link anonymousCookieMaxAgeSeconds}. */
  serialize(id: string): string;
  /** The `Set-Cookie` value that deletes the cookie. */
  deletion(): string;
}

/**
 * @internal Builds the anonymous CSRF cookie that goes with a session cookie.
 *
 * @example
 * ```ts
 * const anonymous = createAnonymousCsrfCookie(manager.cookie, secureRandomBytes);
 * anonymous.name; // '__Host-session-csrf'
 * ```
 */
export function createAnonymousCsrfCookie(session: CookieSettings, randomBytes: RandomBytes): AnonymousCsrfCookie {
  const name = `${session.name}-csrf`;
  const line = (value: string, maxAgeSeconds: number): string =>
    stringifySetCookie(
      {
        name,
        value,
        maxAge: maxAgeSeconds,
        ...(maxAgeSeconds === 0 ? { expires: new Date(0) } : {}),
        path: session.path,
        domain: session.domain,
        secure: session.secure,
        httpOnly: true,
        sameSite: session.sameSite,
        partitioned: session.partitioned,
      },
      { encode: identity },
    );
  return {
    name,
    read(cookieHeader) {
      if (cookieHeader === null || !cookieHeader.includes(name)) return undefined;
      const value = parseCookieHeader(cookieHeader)[name];
      return value !== undefined && idPattern.test(value) ? value : undefined;
    },
    newId: () => encodeBase64Url(randomBytes(32)),
    serialize: (id) => line(id, anonymousCookieMaxAgeSeconds),
    deletion: () => line('', 0),
  };
}
