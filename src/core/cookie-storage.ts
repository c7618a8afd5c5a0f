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
import type { StandardSchemaV1 } from './schema.ts';
import type { SecretInput } from './secrets.ts';
import type { AnySessionData, SessionData, SessionFlashData, SessionHandle } from './session.ts';

/** Cookie options of the storage: the session cookie settings plus the secret(s), as in astro-session / Remix. */
export type StorageCookieOptions<Name extends string = string> = SessionCookieOptions<Name> & {
  /** One secret (astro-session shape). */
  secret?: SecretInput;
  /** Secrets, newest first (Remix shape). */
  secrets?: readonly SecretInput[];
};

/** Options of {@link createCookieSessionStorage}. */
export type CookieSessionStorageOptions<Data extends object, Name extends string = string> = Omit<
  SessionManagerOptions<AnySessionData, AnySessionData, Name>,
  'secrets' | 'cookie' | 'backend' | 'defaults' | 'schema' | 'store' | 'userIdKey'
> & {
  /** Cookie settings and secrets. */
  cookie: StorageCookieOptions<Name>;
  /** Secrets may also be given here instead of in `cookie`. */
  secrets?: SecretInput | readonly SecretInput[];
  /** A Standard Schema (zod, valibot, ...) that loaded data must pass, or the session is rejected. */
  schema?: StandardSchemaV1<unknown, Data>;
};

/** The storage object returned by {@link createCookieSessionStorage}. */
export interface CookieSessionStorage<Data extends object = SessionData, Flash extends object = SessionFlashData> {
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
 * - astro-session: `createCookieSessionStorage(defaults, { cookie: { name, secret } })`. Every key
 *   of `Data` has a value from `defaults`, so `session.get(key)` is typed as present.
 * - Remix / React Router: `createCookieSessionStorage({ cookie: { name, secrets: [...] } })`. A
 *   new session is empty, so `session.get(key)` may be `undefined`.
 *
 * `Data` and `Flash` default to the app's declared {@link SessionData} / {@link SessionFlashData}.
 *
 * @example
 * ```ts
 * export const { getSession, commitSession, destroySession } =
 *   createCookieSessionStorage<{ count: number }>({ count: 0 }, { cookie: { secret: import.meta.env.SESSION_SECRET } });
 * ```
 */
export function createCookieSessionStorage<
  Data extends object = SessionData,
  Flash extends object = SessionFlashData,
  Name extends string = string,
>(defaults: Data, options: CookieSessionStorageOptions<Data, Name>): CookieSessionStorage<Data, Flash>;
/**
 * Creates a sealed-cookie session storage whose new sessions are empty (the Remix shape).
 *
 * @example
 * ```ts
 * const { getSession, commitSession } = createCookieSessionStorage<{ userId: string }>({
 *   cookie: { name: '__session', secrets: [process.env.SESSION_SECRET!] },
 * });
 * ```
 */
export function createCookieSessionStorage<
  Data extends object = SessionData,
  Flash extends object = SessionFlashData,
  Name extends string = string,
>(options: CookieSessionStorageOptions<Data, Name>): CookieSessionStorage<Partial<Data>, Flash>;
export function createCookieSessionStorage<Data extends object, Flash extends object, Name extends string>(
  first: Data | CookieSessionStorageOptions<Data, Name>,
  second?: CookieSessionStorageOptions<Data, Name>,
): CookieSessionStorage<Data, Flash> {
  const where = 'createCookieSessionStorage()';
  const defaults = second === undefined ? undefined : (first as Data);
  const options = (second ?? first) as CookieSessionStorageOptions<Data, Name>;
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
  // The manager works on plain records; the handles it makes are this storage's types.
  const manager = createSessionManager<AnySessionData, AnySessionData, Name>({
    ...rest,
    schema: rest.schema as StandardSchemaV1<unknown, AnySessionData> | undefined,
    secrets: given[0] as SecretInput | readonly SecretInput[],
    cookie: cookie as unknown as SessionCookieOptions<Name>,
    defaults: defaults as AnySessionData | undefined,
  });
  type Handle = SessionHandle<AnySessionData, AnySessionData>;
  const singleCookie = (cookies: string[]): string => {
    if (cookies.length > 1) {
      throw new SessionKitError('ERR_COOKIE_TOO_LARGE', 'commitSession(): the session needs more than one cookie.', {
        hint: 'Use commitSessionCookies() and append every value, or keep less in the session.',
      });
    }
    return cookies[0] ?? (serializeDeletions(manager.cookie, [manager.cookie.name])[0] as string);
  };

  return {
    loadSession: (input) => manager.load(input) as Promise<LoadResult<Data, Flash>>,
    async getSession(input) {
      return (await manager.load(input)).session as unknown as SessionHandle<Data, Flash>;
    },
    commitSessionCookies: (session) => manager.commit(session as unknown as Handle),
    async commitSession(session) {
      return singleCookie(await manager.commit(session as unknown as Handle, { always: true }));
    },
    async destroySession(session) {
      session.destroy();
      return singleCookie(await manager.commit(session as unknown as Handle));
    },
    async destroySessionCookies(session) {
      session.destroy();
      return manager.commit(session as unknown as Handle);
    },
  };
}
