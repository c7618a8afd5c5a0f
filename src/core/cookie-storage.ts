/**
 * `createCookieSessionStorage` with the call shapes of astro-session and Remix / React Router:
 * `getSession(request | cookieHeader)`, `commitSession(session)`, `destroySession(session)`.
 * Unlike those, the cookie is encrypted (not just signed), expires inside the token, and
 * defaults are cloned per session.
 *
 * @module
 */
import { type SessionCookieOptions, serializeDeletions } from './cookie.ts';
import { configError, SessionKitError } from './errors.ts';
import { createSessionManager, type LoadResult, type SessionInput, type SessionManagerOptions } from './manager.ts';
import type { SecretInput } from './secrets.ts';
import type { AnySessionData, SessionHandle } from './session.ts';

/** Cookie options of the storage: the session cookie settings plus the secret(s), as in astro-session / Remix. */
export type StorageCookieOptions<Name extends string = string> = SessionCookieOptions<Name> & {
  /** One secret (astro-session shape). */
  secret?: SecretInput;
  /** Secrets, newest first (Remix shape). */
  secrets?: readonly SecretInput[];
};

/** Options of {@link createCookieSessionStorage}. */
export type CookieSessionStorageOptions<
  Data extends AnySessionData,
  Flash extends AnySessionData,
  Name extends string = string,
> = Omit<SessionManagerOptions<Data, Flash, Name>, 'secrets' | 'cookie' | 'backend' | 'defaults'> & {
  /** Cookie settings and secrets. */
  cookie: StorageCookieOptions<Name>;
  /** Secrets may also be given here instead of in `cookie`. */
  secrets?: SecretInput | readonly SecretInput[];
};

/** The storage object returned by {@link createCookieSessionStorage}. */
export interface CookieSessionStorage<Data extends AnySessionData, Flash extends AnySessionData> {
  /** Loads the session from a request, its headers or a `Cookie` header value. Never throws on bad cookies. */
  getSession(input?: SessionInput): Promise<SessionHandle<Data, Flash>>;
  /** Like {@link getSession}, and also says whether the cookie was new, valid or rejected (and why). */
  loadSession(input?: SessionInput): Promise<LoadResult<Data, Flash>>;
  /**
   * One `Set-Cookie` value that persists the session. When nothing changed and renewal is not
   * due, it repeats the current cookie without any cryptography.
   *
   * @throws `ERR_COOKIE_TOO_LARGE` when the session needs more than one cookie (use {@link commitSessionCookies})
   */
  commitSession(session: SessionHandle<Data, Flash>): Promise<string>;
  /** Every `Set-Cookie` value needed (chunks, stale-chunk deletions); empty when nothing changed. */
  commitSessionCookies(session: SessionHandle<Data, Flash>): Promise<string[]>;
  /** Destroys the session and returns the `Set-Cookie` value that deletes its cookie. */
  destroySession(session: SessionHandle<Data, Flash>): Promise<string>;
  /** Destroys the session and returns every `Set-Cookie` value that deletes its cookies (chunks included). */
  destroySessionCookies(session: SessionHandle<Data, Flash>): Promise<string[]>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Creates a sealed-cookie session storage.
 *
 * Two call shapes:
 * - astro-session: `createCookieSessionStorage(defaults, { cookie: { name, secret } })`
 * - Remix / React Router: `createCookieSessionStorage({ cookie: { name, secrets: [...] } })`
 *
 * @example
 * ```ts
 * export const { getSession, commitSession, destroySession } =
 *   createCookieSessionStorage<{ count: number }>({ count: 0 }, { cookie: { secret: import.meta.env.SESSION_SECRET } });
 * ```
 */
export function createCookieSessionStorage<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
  Name extends string = string,
>(defaults: Data, options: CookieSessionStorageOptions<Data, Flash, Name>): CookieSessionStorage<Data, Flash>;
export function createCookieSessionStorage<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
  Name extends string = string,
>(options: CookieSessionStorageOptions<Data, Flash, Name>): CookieSessionStorage<Data, Flash>;
export function createCookieSessionStorage<
  Data extends AnySessionData,
  Flash extends AnySessionData,
  Name extends string,
>(
  first: Data | CookieSessionStorageOptions<Data, Flash, Name>,
  second?: CookieSessionStorageOptions<Data, Flash, Name>,
): CookieSessionStorage<Data, Flash> {
  const where = 'createCookieSessionStorage()';
  const defaults = second === undefined ? undefined : (first as Data);
  const options = (second ?? first) as CookieSessionStorageOptions<Data, Flash, Name>;
  if (!isObject(options) || !isObject(options.cookie)) {
    throw configError(
      `${where}: options with a "cookie" object are required.`,
      'Call createCookieSessionStorage(defaults, { cookie: { secret } }) or createCookieSessionStorage({ cookie: { secrets } }).',
    );
  }
  const { secret, secrets: cookieSecrets, ...cookie } = options.cookie;
  const given = [secret, cookieSecrets, options.secrets].filter((value) => value !== undefined);
  if (given.length !== 1) {
    throw configError(
      `${where}: give the secret exactly once (cookie.secret, cookie.secrets or secrets).`,
      given.length === 0 ? 'Generate one with `openssl rand -base64 32` and load it from an env var.' : undefined,
    );
  }
  const { cookie: _cookie, secrets: _secrets, ...rest } = options;
  const manager = createSessionManager<Data, Flash, Name>({
    ...rest,
    secrets: given[0] as SecretInput | readonly SecretInput[],
    cookie: cookie as unknown as SessionCookieOptions<Name>,
    defaults,
  });
  const singleCookie = (cookies: string[]): string => {
    if (cookies.length > 1) {
      throw new SessionKitError('ERR_COOKIE_TOO_LARGE', 'commitSession(): the session needs more than one cookie.', {
        hint: 'Use commitSessionCookies() and append every value, or keep less in the session.',
      });
    }
    return cookies[0] ?? (serializeDeletions(manager.cookie, [manager.cookie.name])[0] as string);
  };

  return {
    loadSession: (input) => manager.load(input),
    async getSession(input) {
      return (await manager.load(input)).session;
    },
    commitSessionCookies: (session) => manager.commit(session),
    async commitSession(session) {
      return singleCookie(await manager.commit(session, { always: true }));
    },
    async destroySession(session) {
      session.destroy();
      return singleCookie(await manager.commit(session));
    },
    async destroySessionCookies(session) {
      session.destroy();
      return manager.commit(session);
    },
  };
}
