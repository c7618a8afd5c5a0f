/**
 * `sessionkit/server`: the current request's session, anywhere in a request.
 *
 * Call shapes of astro-sessionkit are kept: `getSession()`, `requireSession()`, `hasRole('admin')`,
 * `setSession(context, session)`, ... They work in every adapter (Astro, Hono, the fetch handler):
 * inside a request the pipeline runs, through `AsyncLocalStorage` (or the app's own context
 * store). Each helper also accepts the request's context as an optional argument (Astro's
 * `context` or `Astro`, Hono's `c`, the fetch handler's `context`), for runtimes without it.
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
import { restartSessionLifetime, type Session, type SessionData } from '../core/session.ts';
import {
  isAuthenticated as hasSignedInShape,
  MAX_ACCESS_ENTRIES,
  sessionHasAllPermissions,
  sessionHasAnyPermission,
  sessionHasPermission,
  sessionHasRole,
} from '../guard/access.ts';
import { getContextStore } from '../pipeline/context-store.ts';
import { type RequestSessionState, RequestState } from '../pipeline/state.ts';

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
 * Anything that carries sessionkit's request state: an Astro `APIContext` or `Astro`, the fetch
 * handler's `context` (`{ locals }`), or Hono's `c` (`c.var.sessionkit`).
 */
export type SessionContextLike = { locals: object } | { var: object };

function carriedState(value: unknown): RequestSessionState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const holder = (value as { locals?: unknown }).locals ?? (value as { var?: unknown }).var;
  if (typeof holder !== 'object' || holder === null) return undefined;
  return (holder as { sessionkit?: RequestSessionState }).sessionkit;
}

function isContextLike(value: unknown): value is SessionContextLike {
  return carriedState(value) !== undefined;
}

function stateOf(context: SessionContextLike | undefined): RequestSessionState {
  const state = carriedState(context) ?? getContextStore()?.get();
  if (state === undefined) {
    throw new SessionKitError('ERR_NO_CONTEXT', 'No sessionkit request context here.', {
      hint: 'Call this during a request that sessionkit handles (the Astro integration, sessionkit/hono or sessionkit/fetch), or pass the request context as an argument.',
    });
  }
  return state;
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
export function getSession<User extends SessionUser = SessionUser>(context?: SessionContextLike): User | null {
  const { session } = stateOf(context);
  return hasSignedInShape(session.data) ? (session.data as unknown as User) : null;
}

/**
 * The signed-in session data, or an `ERR_UNAUTHENTICATED` error (HTTP 401; the middleware turns it
 * into a sign-in redirect for pages and a JSON 401 for API requests).
 *
 * @example
 * ```ts
 * const session = requireSession(); // TypeScript knows it is not null
 * ```
 */
export function requireSession<User extends SessionUser = SessionUser>(context?: SessionContextLike): User {
  const session = getSession<User>(context);
  if (session === null) throw new SessionKitError('ERR_UNAUTHENTICATED', 'Sign-in required.');
  return session;
}

/** True when the current request has a signed-in session. */
export function isAuthenticated(context?: SessionContextLike): boolean {
  return getSession(context) !== null;
}

function signedIn(
  context: SessionContextLike | undefined,
): { data: SessionUser; state: RequestSessionState } | undefined {
  const state = stateOf(context);
  return hasSignedInShape(state.session.data)
    ? { data: state.session.data as unknown as SessionUser, state }
    : undefined;
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

/** Accepts both shipped argument orders: `(context, value)` and `(value, context?)`. */
function orderArguments<T>(first: unknown, second: unknown): { value: T; context: SessionContextLike | undefined } {
  if (isContextLike(first)) return { value: second as T, context: first };
  return { value: first as T, context: isContextLike(second) ? second : undefined };
}

/** The live session handle: after a sign-out, the fresh session that replaces the destroyed one. */
function writableSession(state: RequestSessionState): Session<SessionData> {
  if (state instanceof RequestState) return state.writableSession();
  if (state.session.isDestroyed) {
    throw new SessionKitError('ERR_NO_CONTEXT', 'This request state was not made by sessionkit.', {
      hint: 'Use the state sessionkit passes in (context.locals.sessionkit), not a copy of it.',
    });
  }
  return state.session;
}

const accessKeys = ['role', 'roles', 'permissions'] as const;

/**
 * Signs a session in after authentication: replaces the session data and rotates the session id
 * (no fixation). Persisted when the response is sent. Both argument orders work. Resolves to the
 * session handle now in use (for `flash`, or `manager.describe` in store mode).
 *
 * @throws `ERR_SESSION_INVALID` when `userId` is missing or roles/permissions are malformed
 *
 * @example
 * ```ts
 * const session = await setSession(context, { userId: user.id, email: user.email, role: user.role });
 * session.flash('notice', 'Signed in');
 * ```
 */
export function setSession(context: SessionContextLike, session: SessionUser): Promise<Session<SessionData>>;
export function setSession(session: SessionUser, context?: SessionContextLike): Promise<Session<SessionData>>;
export function setSession(first: unknown, second?: unknown): Promise<Session<SessionData>> {
  const { value, context } = orderArguments<SessionUser>(first, second);
  assertSessionShape(value, 'setSession()');
  const state = stateOf(context);
  return promiseOf(() => {
    const session = writableSession(state);
    const writable = session as unknown as Session<Record<string, unknown>>;
    for (const key of Object.keys(session.data)) if (!Object.hasOwn(value, key)) writable.unset(key);
    for (const [key, entry] of Object.entries(value)) writable.set(key, entry);
    session.regenerate();
    restartSessionLifetime(session);
    return session;
  });
}

/**
 * Updates fields of the signed-in session. A change of `role`, `roles` or `permissions` rotates
 * the session id, as any privilege change should.
 *
 * @throws `ERR_UNAUTHENTICATED` when there is no signed-in session; `ERR_SESSION_INVALID` when the result is malformed
 *
 * @example
 * ```ts
 * await updateSession(context, { role: 'admin' });
 * ```
 */
export function updateSession(context: SessionContextLike, updates: Partial<SessionUser>): Promise<void>;
export function updateSession(updates: Partial<SessionUser>, context?: SessionContextLike): Promise<void>;
export function updateSession(first: unknown, second?: unknown): Promise<void> {
  const { value, context } = orderArguments<Partial<SessionUser>>(first, second);
  const state = stateOf(context);
  const current = state.session.data;
  if (!hasSignedInShape(current)) {
    throw new SessionKitError('ERR_UNAUTHENTICATED', 'updateSession(): there is no signed-in session to update.');
  }
  assertSessionShape({ ...current, ...value }, 'updateSession()');
  const writable = state.session as unknown as Session<Record<string, unknown>>;
  let privilegeChanged = false;
  for (const [key, entry] of Object.entries(value)) {
    if ((accessKeys as readonly string[]).includes(key) && JSON.stringify(current[key]) !== JSON.stringify(entry)) {
      privilegeChanged = true;
    }
    writable.set(key, entry);
  }
  if (privilegeChanged) state.session.regenerate();
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
  const state = stateOf(context);
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
 * The full session handle (`get`, `set`, `flash`, ...), for data beyond the signed-in user.
 *
 * @example
 * ```ts
 * const notice = getSessionHandle().flash('notice');
 * ```
 */
export function getSessionHandle<Data extends SessionData = SessionData>(context?: SessionContextLike): Session<Data> {
  return stateOf(context).session as unknown as Session<Data>;
}

/** The CSRF token to put in forms (`csrf_token` field) or fetch calls (`x-csrf-token` header). */
export function getCsrfToken(context?: SessionContextLike): string {
  return stateOf(context).csrfToken;
}
