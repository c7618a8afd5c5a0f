/**
 * The state of one request as the app sees it (`context.locals.sessionkit`, `getSession()`): the
 * session handle, the CSRF token, whether the store answered. A sign-out followed by more session
 * work in the same request is modelled here: the destroyed handle is replaced by its successor,
 * which commits as one session (one `Set-Cookie` per cookie name).
 *
 * @module
 */
import type { SessionManager, SessionOperations } from '../core/manager.ts';
import {
  type AnySessionData,
  type SessionData,
  type SessionFlashData,
  type SessionHandle,
  sessionChangesOf,
} from '../core/session.ts';
import type { AnonymousCsrfCookie } from '../csrf/anonymous.ts';
import type { AccessHooks } from '../guard/rules.ts';

/**
 * What sessionkit keeps per request: `context.locals.sessionkit` in Astro, the `sessionkit`
 * variable in Hono, and what `sessionkit/server` helpers read.
 *
 * @example
 * ```ts
 * const { session, csrfToken } = context.locals.sessionkit;
 * session.flash('notice', 'Saved');
 * ```
 */
export interface RequestSessionState<
  Data extends object = SessionData,
  Manager extends SessionManager<AnySessionData> = SessionManager<AnySessionData>,
> {
  /** The session handle of this request (after a sign-out, the fresh session that replaced it), typed by the app's declared session types. */
  readonly session: SessionHandle<Data, SessionFlashData>;
  /** The session manager that loaded it (a `StoreSessionManager` in store mode: `listSessions`, `revokeSession`, ...). */
  readonly manager: Manager;
  /** Role and permission extraction configured for the app. */
  readonly access: AccessHooks<Data> | undefined;
  /** The CSRF token for forms and fetch calls in this request (`''` when CSRF protection is off). */
  readonly csrfToken: string;
  /** True when the session store could not be reached: the session is empty and will not be saved. */
  readonly storeUnavailable: boolean;
}

/** Issues CSRF tokens for the request state (see `csrf.ts`). */
export interface TokenIssuer {
  /** A token now, or `undefined` when the MAC engine cannot sign synchronously (WebCrypto). */
  issueNow(sessionId: string): string | undefined;
  /** A token, waiting for the engine. */
  issue(sessionId: string): Promise<string>;
  /** A token bound to an anonymous CSRF cookie's id now, or `undefined` (WebCrypto). */
  issueAnonymousNow(anonymousId: string): string | undefined;
  /** A token bound to an anonymous CSRF cookie's id, waiting for the engine. */
  issueAnonymous(anonymousId: string): Promise<string>;
  /** True when {@link TokenIssuer.issueNow} signs synchronously. */
  readonly synchronous: boolean;
}

type Data = Record<string, unknown>;

/** A request's CSRF tokens: how they are issued, and the anonymous cookie they bind to before any session exists. */
export interface RequestTokens {
  readonly issuer: TokenIssuer;
  readonly anonymous: AnonymousCsrfCookie;
}

/** The anonymous CSRF cookie's part in one request, made when first needed. */
interface AnonymousUse {
  /** The id the request's cookie carries, `null` when it carries none. */
  readonly carried: string | null;
  /** The id tokens are bound to in this request (the carried one, or a new one). */
  id: string | undefined;
  /** True once the app read a token bound to `id`. */
  used: boolean;
  /** True when `id` was made after the session id changed (the carried one's tokens ended). */
  afterChange: boolean;
}

/** No `Set-Cookie` lines (shared: never written to). */
const noLines: string[] = [];

/** The changes that end every CSRF token of the session: a new id, a sign-out. */
function changesId(session: SessionHandle<Data>): boolean {
  return session.isDestroyed || sessionChangesOf(session).previousId !== undefined;
}

/**
 * @internal The request state the pipeline creates. The CSRF token is issued on first read for
 * what is current at that moment, once per binding, where the MAC is synchronous: the session id
 * when the session is (or is about to be) kept, so a page rendered after a sign-in carries a token
 * of the new session; else the anonymous CSRF cookie's id, so a form shown to a visitor without a
 * session costs no session. On WebCrypto one token is issued before the app runs
 * ({@link RequestState.prepareToken}).
 */
export class RequestState implements RequestSessionState<Data> {
  readonly manager: SessionManager<Data>;
  readonly access: AccessHooks<Data> | undefined;
  readonly storeUnavailable: boolean;
  /** The route pattern the guard last checked (a rewrite to another route is checked again). */
  checkedRoute: string | undefined;
  /** True once a protecting rule covered the request: its response is then `private, no-store`. */
  guarded = false;
  #session: SessionHandle<Data>;
  readonly #operations: SessionOperations<Data, AnySessionData>;
  readonly #tokens: RequestTokens | undefined;
  readonly #issuesLazily: boolean;
  readonly #request: Request;
  #replaced = false;
  #tokenUsed = false;
  #tokenFor: string | undefined;
  #token = '';
  /** The anonymous CSRF cookie's part, once the request needed it (most never do). */
  #anonymous: AnonymousUse | undefined;

  constructor(
    session: SessionHandle<Data>,
    manager: SessionManager<Data>,
    operations: SessionOperations<Data, AnySessionData>,
    access: AccessHooks<Data> | undefined,
    tokens: RequestTokens | undefined,
    storeUnavailable: boolean,
    request: Request,
  ) {
    this.#session = session;
    this.manager = manager;
    this.#operations = operations;
    this.access = access;
    this.#tokens = tokens;
    this.#issuesLazily = tokens?.issuer.synchronous ?? true;
    this.storeUnavailable = storeUnavailable;
    this.#request = request;
  }

  get session(): SessionHandle<Data> {
    return this.#session;
  }

  get csrfToken(): string {
    this.#tokenUsed = true;
    const tokens = this.#tokens;
    if (tokens === undefined) return '';
    if (!this.#issuesLazily) {
      const anonymous = this.#anonymous;
      if (anonymous !== undefined && this.#tokenFor === anonymous.id) anonymous.used = true;
      return this.#token;
    }
    const session = this.#session;
    if (session.isNew && !session.isModified) {
      const anonymousId = this.#anonymousIdNow(tokens.anonymous);
      if (this.#tokenFor !== anonymousId) {
        this.#token = tokens.issuer.issueAnonymousNow(anonymousId) ?? '';
        this.#tokenFor = anonymousId;
      }
      (this.#anonymous as AnonymousUse).used = true;
      return this.#token;
    }
    const sessionId = session.id;
    if (this.#tokenFor !== sessionId) {
      this.#token = tokens.issuer.issueNow(sessionId) ?? '';
      this.#tokenFor = sessionId;
    }
    return this.#token;
  }

  /** The id of the anonymous CSRF cookie the request carried, if any (read once, on first use). */
  carriedAnonymousId(): string | undefined {
    return this.#anonymousUse().carried ?? undefined;
  }

  #anonymousUse(): AnonymousUse {
    this.#anonymous ??= {
      carried: this.#tokens?.anonymous.read(this.#request.headers.get('cookie')) ?? null,
      id: undefined,
      used: false,
      afterChange: false,
    };
    return this.#anonymous;
  }

  /**
   * The anonymous id tokens bind to in this request: the carried one, else a new one; after the
   * session id changed (a sign-out showing a form), always a new one, since the carried one's
   * tokens end with the change.
   */
  #anonymousIdNow(cookie: AnonymousCsrfCookie): string {
    const use = this.#anonymousUse();
    if (this.#replaced || changesId(this.#session)) {
      if (!use.afterChange) {
        use.id = cookie.newId();
        use.afterChange = true;
      }
      return use.id as string;
    }
    use.id ??= use.carried ?? cookie.newId();
    return use.id;
  }

  /**
   * The `Set-Cookie` lines of the anonymous CSRF cookie, read before the session is committed
   * (which forgets what changed): when the session id changed or the session ended, the carried
   * cookie is cleared (its tokens end too), or replaced by the new one of a form shown after the
   * change; otherwise it is stored (or renewed) when the app read a token bound to it.
   */
  anonymousCookieLines(): string[] {
    const tokens = this.#tokens;
    if (tokens === undefined) return noLines;
    const use = this.#anonymous;
    if (this.#replaced || changesId(this.#session)) {
      if (use?.afterChange) return [tokens.anonymous.serialize(use.id as string)];
      return this.carriedAnonymousId() === undefined ? noLines : [tokens.anonymous.deletion()];
    }
    return use?.used ? [tokens.anonymous.serialize(use.id as string)] : noLines;
  }

  /**
   * The session to write to: the current one, or, after a sign-out (`destroy()`), a fresh session
   * that takes its place for the rest of the request.
   */
  writableSession(): SessionHandle<Data> {
    if (this.#session.isDestroyed) {
      this.#session = this.#operations.successor(this.#session);
      this.#replaced = true;
    }
    return this.#session;
  }

  /** True when the session was destroyed and replaced during this request (signed out, maybe in again). */
  get replaced(): boolean {
    return this.#replaced;
  }

  /** True once the request read its CSRF token: the response is then personal (`private, no-store`). */
  get tokenIssued(): boolean {
    return this.#tokenUsed;
  }

  /**
   * On WebCrypto, issues the token before the app runs (the getter cannot wait): for the loaded
   * session, or for the anonymous cookie when the request brought no session.
   */
  prepareToken(): Promise<void> | undefined {
    const tokens = this.#tokens;
    if (tokens === undefined || this.#issuesLazily) return undefined;
    const session = this.#session;
    const binding = session.isNew ? this.#anonymousIdNow(tokens.anonymous) : session.id;
    const issuing = session.isNew ? tokens.issuer.issueAnonymous(binding) : tokens.issuer.issue(binding);
    return issuing.then((token) => {
      this.#token = token;
      this.#tokenFor = binding;
    });
  }
}
