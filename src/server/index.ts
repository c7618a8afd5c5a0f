/**
 * `sessionkit/server`: the current request's session, anywhere in a request.
 *
 * Call shapes of astro-sessionkit are kept: `getSession()`, `requireSession()`, `hasRole('admin')`,
 * `setSession(session, context, { ttl })`, ... They work in every adapter (Astro, Hono, the fetch
 * handler): inside a request the pipeline runs, through `AsyncLocalStorage` (or the app's own
 * context store). Each helper also accepts the request's context as an optional argument (Astro's
 * `context` or `Astro`, Hono's `c`, the fetch handler's `context`), for runtimes without it.
 *
 * The data they return is typed by the app's declaration (`SessionkitTypes`, see
 * {@link SignedInSessionData}); without one, by astro-sessionkit's session shape ({@link SessionUser}).
 *
 * @example
 * ```astro
 * ---
 * import { requireSession, hasRole } from 'sessionkit/server';
 * const session = requireSession(); // 401 when signed out
 * ---
 * <h1>Welcome, {session.email}</h1>
 * {hasRole('admin') && <a href="/admin">Admin</a>}
 * ```
 *
 * @module
 */
import { SessionKitError } from '../core/errors.ts';
import { promiseOf } from '../core/maybe-promise.ts';
import {
  type AnySessionData,
  restartSessionLifetime,
  restartSessionWindow,
  type SessionData,
  type SessionFlashData,
  type SessionHandle,
  type SessionkitTypes,
} from '../core/session.ts';
import {
  isAuthenticated as hasSignedInShape,
  MAX_ACCESS_ENTRIES,
  sessionHasAllPermissions,
  sessionHasAnyPermission,
  sessionHasPermission,
  sessionHasRole,
} from '../guard/access.ts';
import { getContextStore } from '../pipeline/context-store.ts';
import { pendingSourceKey, type SessionSource } from '../pipeline/source.ts';
import { type RequestSessionState, RequestState } from '../pipeline/state.ts';

export type { SessionData, SessionFlashData, SessionHandle, SessionkitTypes } from '../core/session.ts';
export {
  type ContextStore,
  createAsyncLocalContextStore,
  type GetContextStore,
  type RunWithContext,
  setContextStore,
} from '../pipeline/context-store.ts';
export type { RequestSessionState } from '../pipeline/state.ts';

/** The session shape astro-sessionkit defined, which the guard and these helpers read. */
export interface SessionUser {
  /** Required for a signed-in session. */
  userId: string;
  email?: string;
  /** Primary role. */
  role?: string;
  /** Further roles (`hasRole` checks both). */
  roles?: string[];
  permissions?: string[];
  [key: string]: unknown;
}

/**
 * The data of a signed-in session, as `getSession()` and `requireSession()` return it and
 * `setSession()` takes it: the app's declared `SessionkitTypes['user']`, else its declared
 * {@link SessionData} with a `userId`, else {@link SessionUser} (astro-sessionkit's `Session`).
 */
export type SignedInSessionData = SessionkitTypes extends { readonly user: infer User extends object }
  ? User & { userId: string }
  : SessionkitTypes extends { readonly data: object }
    ? SessionData & { userId: string }
    : SessionUser;

/** Options of {@link setSession} and {@link updateSession}. */
export interface SetSessionOptions {
  /**
   * The session's own lifetime, in seconds: it ends this long after this write (and, when expiry
   * is rolling, after its last renewal), never after its absolute timeout. At most the idle
   * timeout (`expiry.idleTimeoutSeconds`, or `sessionTtl`). Default: the idle timeout; for
   * `updateSession`, the session keeps the lifetime it had.
   */
  ttl?: number;
}

/**
 * Anything that carries sessionkit's request state: an Astro `APIContext` or `Astro`, the fetch
 * handler's `context` (`{ locals }`), or Hono's `c` (`c.var.sessionkit`).
 */
export type SessionContextLike = { locals: object } | { var: object };

function holderOf(value: unknown): object | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const holder = (value as { locals?: unknown }).locals ?? (value as { var?: unknown }).var;
  return typeof holder === 'object' && holder !== null ? holder : undefined;
}

function carriedState(value: unknown): RequestSessionState | undefined {
  return (holderOf(value) as { sessionkit?: RequestSessionState } | undefined)?.sessionkit;
}

function isContextLike(value: unknown): value is SessionContextLike {
  return holderOf(value) !== undefined;
}

function noContext(): SessionKitError {
  return new SessionKitError('ERR_NO_CONTEXT', 'No sessionkit request context here.', {
    hint: 'Call this during a request that sessionkit handles (the Astro integration, sessionkit/hono or sessionkit/fetch), or pass the request context as an argument.',
  });
}

function currentState(context: SessionContextLike | undefined): RequestSessionState | undefined {
  return carriedState(context) ?? getContextStore()?.get();
}

function stateOf(context: SessionContextLike | undefined): RequestSessionState {
  const state = currentState(context);
  if (state === undefined) throw noContext();
  return state;
}

/**
 * The session kept elsewhere that the request's adapter left for helpers called before the
 * pipeline runs: in Astro's bridge mode, the app's own middleware runs first, and astro-sessionkit's
 * "Set Up Your Session" step calls `setSession(data, context)` there.
 */
function pendingSourceOf(context: SessionContextLike | undefined): SessionSource | undefined {
  return (holderOf(context) as { [pendingSourceKey]?: SessionSource } | undefined)?.[pendingSourceKey];
}

/**
 * The signed-in session data of the current request, or `null` when signed out.
 *
 * @example
 * ```ts
 * const session = getSession();
 * if (session) console.log(session.userId);
 * ```
 */
export function getSession(context?: SessionContextLike): SignedInSessionData | null {
  const { session } = stateOf(context);
  return hasSignedInShape(session.data) ? (session.data as unknown as SignedInSessionData) : null;
}

/**
 * The signed-in session data, or an `ERR_UNAUTHENTICATED` error (HTTP 401; the middleware turns it
 * into a sign-in redirect for pages and a JSON 401 for API requests). Typed by the app's declared
 * session data (see {@link SignedInSessionData}), with `userId` known to be there.
 *
 * @example
 * ```ts
 * const session = requireSession(); // TypeScript knows it is not null
 * ```
 */
export function requireSession(context?: SessionContextLike): SignedInSessionData {
  const session = getSession(context);
  if (session === null) throw new SessionKitError('ERR_UNAUTHENTICATED', 'Sign-in required.');
  return session;
}

/** True when the current request has a signed-in session. */
export function isAuthenticated(context?: SessionContextLike): boolean {
  return getSession(context) !== null;
}

function signedIn(
  context: SessionContextLike | undefined,
): { data: AnySessionData; state: RequestSessionState } | undefined {
  const state = stateOf(context);
  return hasSignedInShape(state.session.data) ? { data: state.session.data as AnySessionData, state } : undefined;
}

/**
 * True when signed in and the primary role is `role` or `roles` contains it.
 *
 * @example
 * ```ts
 * if (hasRole('admin')) { ... }
 * ```
 */
export function hasRole(role: string, context?: SessionContextLike): boolean {
  const current = signedIn(context);
  return current !== undefined && sessionHasRole(current.data, role, current.state.access as never);
}

/** True when signed in and granted `permission`. */
export function hasPermission(permission: string, context?: SessionContextLike): boolean {
  const current = signedIn(context);
  return current !== undefined && sessionHasPermission(current.data, permission, current.state.access as never);
}

function splitContext(args: readonly unknown[]): { values: string[]; context: SessionContextLike | undefined } {
  const last = args.at(-1);
  return isContextLike(last)
    ? { values: args.slice(0, -1) as string[], context: last }
    : { values: args as string[], context: undefined };
}

/**
 * True when signed in and granted every one of `permissions` (an Astro context may be passed last).
 *
 * @example
 * ```ts
 * hasAllPermissions('posts:read', 'posts:write');
 * ```
 */
export function hasAllPermissions(...permissions: (string | SessionContextLike)[]): boolean {
  const { values, context } = splitContext(permissions);
  const current = signedIn(context);
  return current !== undefined && sessionHasAllPermissions(current.data, values, current.state.access as never);
}

/** True when signed in and granted at least one of `permissions` (an Astro context may be passed last). */
export function hasAnyPermission(...permissions: (string | SessionContextLike)[]): boolean {
  const { values, context } = splitContext(permissions);
  const current = signedIn(context);
  return current !== undefined && sessionHasAnyPermission(current.data, values, current.state.access as never);
}

/** True when signed in with role `role` AND permission `permission`. */
export function hasRolePermission(role: string, permission: string, context?: SessionContextLike): boolean {
  return hasRole(role, context) && hasPermission(permission, context);
}

function assertSessionShape(value: unknown, where: string): asserts value is SessionUser {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SessionKitError('ERR_SESSION_INVALID', `${where}: the session must be an object.`);
  }
  const user = value as Record<string, unknown>;
  if (typeof user.userId !== 'string' || user.userId.length === 0) {
    throw new SessionKitError('ERR_SESSION_INVALID', `${where}: session.userId must be a non-empty string.`);
  }
  for (const key of ['roles', 'permissions'] as const) {
    const list = user[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > MAX_ACCESS_ENTRIES || list.some((entry) => typeof entry !== 'string')) {
      throw new SessionKitError(
        'ERR_SESSION_INVALID',
        `${where}: session.${key} must be an array of at most ${MAX_ACCESS_ENTRIES} strings.`,
      );
    }
  }
  if (user.role !== undefined && typeof user.role !== 'string') {
    throw new SessionKitError('ERR_SESSION_INVALID', `${where}: session.role must be a string.`);
  }
}

/**
 * The `ttl` of `options`, checked: a whole number of seconds from 1 to `maxSeconds`, or
 * `undefined` when none is given.
 */
function ttlOf(options: SetSessionOptions | undefined, maxSeconds: number, where: string): number | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Object.keys(options).some((key) => key !== 'ttl')) {
    throw new SessionKitError('ERR_SESSION_INVALID', `${where}: options must be { ttl?: number }.`);
  }
  const ttl = options.ttl;
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1) {
    throw new SessionKitError(
      'ERR_SESSION_INVALID',
      `${where}: options.ttl must be a whole number of seconds (1 or more).`,
    );
  }
  if (ttl > maxSeconds) {
    throw new SessionKitError(
      'ERR_SESSION_INVALID',
      `${where}: options.ttl (${ttl} s) is longer than the idle timeout (${maxSeconds} s), which bounds every session's lifetime.`,
      {
        hint: `Raise expiry.idleTimeoutSeconds (the integration's sessionTtl) to at least ${ttl}, and expiry.absoluteTimeoutSeconds with it if needed; give the other sessions a shorter ttl.`,
      },
    );
  }
  return ttl;
}

/** The arguments of the three call shapes: `(context, value, options?)`, `(value, context?, options?)`, `(value, options?)`. */
interface WriteArguments<T> {
  readonly value: T;
  readonly context: SessionContextLike | undefined;
  readonly options: SetSessionOptions | undefined;
}

function orderArguments<T>(first: unknown, second: unknown, third: unknown): WriteArguments<T> {
  if (isContextLike(first)) return { value: second as T, context: first, options: third as SetSessionOptions };
  if (isContextLike(second)) return { value: first as T, context: second, options: third as SetSessionOptions };
  return { value: first as T, context: undefined, options: (second ?? third) as SetSessionOptions | undefined };
}

/** The live session handle: after a sign-out, the fresh session that replaces the destroyed one. */
function writableSession(state: RequestSessionState): SessionHandle<AnySessionData, AnySessionData> {
  if (state instanceof RequestState) return state.writableSession();
  if (state.session.isDestroyed) {
    throw new SessionKitError('ERR_NO_CONTEXT', 'This request state was not made by sessionkit.', {
      hint: 'Use the state sessionkit passes in (context.locals.sessionkit), not a copy of it.',
    });
  }
  return state.session as unknown as SessionHandle<AnySessionData, AnySessionData>;
}

/** The longest ttl a session of this request may have: the manager's idle timeout. */
function maxTtlOf(state: RequestSessionState): number {
  return state.manager.expiry.idleTimeoutSeconds;
}

/** The longest ttl for a session kept elsewhere (Astro's): its own expiry applies, bounded like a cookie's. */
const maxSourceTtlSeconds = 400 * 24 * 60 * 60;

const accessKeys = ['role', 'roles', 'permissions'] as const;

/**
 * Signs a session in after authentication: replaces the session data, rotates the session id
 * (no fixation) and starts a new lifetime, of `options.ttl` seconds when given. Persisted when the
 * response is sent. All of astro-sessionkit's argument orders work. In Astro's bridge mode it may
 * also be called from the app's own middleware, before sessionkit's runs: it then writes the
 * session into Astro's session, as astro-sessionkit's "Set Up Your Session" step did.
 *
 * @throws `ERR_SESSION_INVALID` when `userId` is missing, roles/permissions are malformed or `ttl` is out of range
 *
 * @example
 * ```ts
 * await setSession({ userId: user.id, email: user.email, role: user.role }, context, { ttl: 3600 });
 * getSessionHandle(context).flash('notice', 'Signed in');
 * ```
 */
export function setSession(
  context: SessionContextLike,
  session: SignedInSessionData,
  options?: SetSessionOptions,
): Promise<void>;
export function setSession(
  session: SignedInSessionData,
  context?: SessionContextLike,
  options?: SetSessionOptions,
): Promise<void>;
export function setSession(session: SignedInSessionData, options?: SetSessionOptions): Promise<void>;
export function setSession(first: unknown, second?: unknown, third?: unknown): Promise<void> {
  const where = 'setSession()';
  const { value, context, options } = orderArguments<SessionUser>(first, second, third);
  assertSessionShape(value, where);
  const state = currentState(context);
  if (state === undefined) {
    const source = pendingSourceOf(context);
    if (source === undefined) throw noContext();
    const ttlSeconds = ttlOf(options, maxSourceTtlSeconds, where);
    return source.write({ action: 'save', data: { ...value }, replace: false, regenerate: false, ttlSeconds });
  }
  const ttlSeconds = ttlOf(options, maxTtlOf(state), where);
  return promiseOf(() => {
    const session = writableSession(state);
    for (const key of Object.keys(session.data)) if (!Object.hasOwn(value, key)) session.unset(key);
    for (const [key, entry] of Object.entries(value)) session.set(key, entry);
    session.regenerate();
    restartSessionLifetime(session);
    restartSessionWindow(session, ttlSeconds);
  });
}

/** Merges `updates` into the signed-in `current` data (checked); true when an access field changed. */
function merged(
  current: AnySessionData | undefined,
  updates: AnySessionData,
  where: string,
): { data: AnySessionData; privilegeChanged: boolean } {
  if (!hasSignedInShape(current)) {
    throw new SessionKitError('ERR_UNAUTHENTICATED', `${where}: there is no signed-in session to update.`);
  }
  const data = { ...current, ...updates };
  assertSessionShape(data, where);
  const privilegeChanged = Object.keys(updates).some(
    (key) =>
      (accessKeys as readonly string[]).includes(key) &&
      JSON.stringify(current?.[key]) !== JSON.stringify(updates[key]),
  );
  return { data, privilegeChanged };
}

/**
 * Updates fields of the signed-in session. A change of `role`, `roles` or `permissions` rotates
 * the session id, as any privilege change should. With `options.ttl`, the session's lifetime
 * restarts at that many seconds; without, it keeps the one it had.
 *
 * @throws `ERR_UNAUTHENTICATED` when there is no signed-in session; `ERR_SESSION_INVALID` when the result is malformed
 *
 * @example
 * ```ts
 * await updateSession({ role: 'admin' }, context);
 * ```
 */
export function updateSession(
  context: SessionContextLike,
  updates: Partial<SignedInSessionData>,
  options?: SetSessionOptions,
): Promise<void>;
export function updateSession(
  updates: Partial<SignedInSessionData>,
  context?: SessionContextLike,
  options?: SetSessionOptions,
): Promise<void>;
export function updateSession(updates: Partial<SignedInSessionData>, options?: SetSessionOptions): Promise<void>;
export function updateSession(first: unknown, second?: unknown, third?: unknown): Promise<void> {
  const where = 'updateSession()';
  const { value, context, options } = orderArguments<AnySessionData>(first, second, third);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SessionKitError('ERR_SESSION_INVALID', `${where}: the updates must be an object.`);
  }
  const state = currentState(context);
  if (state === undefined) {
    const source = pendingSourceOf(context);
    if (source === undefined) throw noContext();
    const ttlSeconds = ttlOf(options, maxSourceTtlSeconds, where);
    return source.read().then((current) => {
      const { data, privilegeChanged } = merged(current, value, where);
      return source.write({ action: 'save', data, replace: false, regenerate: privilegeChanged, ttlSeconds });
    });
  }
  const ttlSeconds = ttlOf(options, maxTtlOf(state), where);
  const { privilegeChanged } = merged(state.session.data as AnySessionData, value, where);
  const session = state.session as unknown as SessionHandle<AnySessionData, AnySessionData>;
  for (const [key, entry] of Object.entries(value)) session.set(key, entry);
  if (privilegeChanged) session.regenerate();
  if (ttlSeconds !== undefined) restartSessionWindow(session, ttlSeconds);
  return Promise.resolve();
}

/**
 * Signs out: destroys the session (its cookie is deleted and, with a store, its record removed)
 * and continues the request with a fresh anonymous session, so a flash message can still say
 * goodbye. Await it before touching the session again.
 *
 * @example
 * ```ts
 * await clearSession(context);
 * getSessionHandle(context).flash('notice', 'Signed out');
 * return context.redirect('/', 303);
 * ```
 */
export function clearSession(context?: SessionContextLike): Promise<void> {
  const state = currentState(context);
  if (state === undefined) {
    const source = pendingSourceOf(context);
    if (source === undefined) throw noContext();
    return source.write({ action: 'destroy' });
  }
  return promiseOf(() => {
    state.session.destroy();
    writableSession(state);
  });
}

/** Rotates the session id, keeping the data (call after any privilege change you make yourself). */
export function regenerateSession(context?: SessionContextLike): Promise<void> {
  const state = stateOf(context);
  return promiseOf(() => writableSession(state).regenerate());
}

/**
 * The full session handle (`get`, `set`, `flash`, ...), for data beyond the signed-in user. Typed
 * by the app's declared {@link SessionData} and {@link SessionFlashData}.
 *
 * @example
 * ```ts
 * const notice = getSessionHandle().flash('notice');
 * ```
 */
export function getSessionHandle(context?: SessionContextLike): SessionHandle<SessionData, SessionFlashData> {
  return stateOf(context).session as unknown as SessionHandle<SessionData, SessionFlashData>;
}

/** The CSRF token to put in forms (`csrf_token` field) or fetch calls (`x-csrf-token` header). */
export function getCsrfToken(context?: SessionContextLike): string {
  return stateOf(context).csrfToken;
}
