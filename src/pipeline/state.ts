/**
 * The state of one request as the app sees it (`context.locals.sessionkit`, `getSession()`): the
 * session handle, the CSRF token, whether the store answered. A sign-out followed by more session
 * work in the same request is modelled here: the destroyed handle is replaced by its successor,
 * which commits as one session (one `Set-Cookie` per cookie name).
 *
 * @module
 */
import type { SessionManager, SessionOperations } from '../core/manager.ts';
import type { AnySessionData, SessionData, SessionFlashData, SessionHandle } from '../core/session.ts';
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
  /** True when {@link TokenIssuer.issueNow} signs synchronously. */
  readonly synchronous: boolean;
}

type Data = Record<string, unknown>;

/**
 * @internal The request state the pipeline creates. The CSRF token is issued on first read for
 * the session id current at that moment (a page rendered after a sign-in carries a token of the
 * new session), once per id, where the MAC is synchronous; on WebCrypto one token for the loaded
 * session is issued before the app runs ({@link RequestState.prepareToken}).
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
  readonly #tokens: TokenIssuer | undefined;
  readonly #issuesLazily: boolean;
  #replaced = false;
  #tokenUsed = false;
  #tokenFor: string | undefined;
  #token = '';

  constructor(
    session: SessionHandle<Data>,
    manager: SessionManager<Data>,
    operations: SessionOperations<Data, AnySessionData>,
    access: AccessHooks<Data> | undefined,
    tokens: TokenIssuer | undefined,
    storeUnavailable: boolean,
  ) {
    this.#session = session;
    this.manager = manager;
    this.#operations = operations;
    this.access = access;
    this.#tokens = tokens;
    this.#issuesLazily = tokens?.synchronous ?? true;
    this.storeUnavailable = storeUnavailable;
  }

  get session(): SessionHandle<Data> {
    return this.#session;
  }

  get csrfToken(): string {
    this.#tokenUsed = true;
    const tokens = this.#tokens;
    if (tokens === undefined) return '';
    const sessionId = this.#session.id;
    if (this.#issuesLazily && this.#tokenFor !== sessionId) {
      this.#token = tokens.issueNow(sessionId) ?? '';
      this.#tokenFor = sessionId;
    }
    return this.#token;
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

  /** True once the request read its CSRF token: the response is then personal, and a new session is saved. */
  get tokenIssued(): boolean {
    return this.#tokenUsed;
  }

  /** On WebCrypto, issues the loaded session's token before the app runs (the getter cannot wait). */
  prepareToken(): Promise<void> | undefined {
    const tokens = this.#tokens;
    if (tokens === undefined || this.#issuesLazily) return undefined;
    const sessionId = this.#session.id;
    return tokens.issue(sessionId).then((token) => {
      this.#token = token;
      this.#tokenFor = sessionId;
    });
  }
}
