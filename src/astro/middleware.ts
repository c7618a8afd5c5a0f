/**
 * sessionkit's `pre` middleware: loads the session, checks CSRF and the guard, runs the rest of
 * the chain inside the session context, then commits the session onto the response. The common
 * request (remembered cookie, safe method, synchronous guard, unchanged session) runs without an
 * async frame: only the page's response is awaited.
 * Registered by the integration as `sessionkit/astro/middleware` (order `pre`, so the user's
 * `src/middleware.ts` sees `context.locals.sessionkit` and cannot reach a protected route first).
 *
 * @module
 */
import type { APIContext, MiddlewareHandler, MiddlewareNext } from 'astro';
import { isSessionKitError } from '../core/errors.ts';
import type { LoadResult, SessionManager } from '../core/manager.ts';
import { type MaybePromise, mapMaybe } from '../core/maybe-promise.ts';
import { markSessionCommitted, type Session, type SessionData, sessionChangesOf } from '../core/session.ts';
import { type CsrfProtection, isSafeMethod } from '../csrf/protection.ts';
import type { GuardDecision } from '../guard/index.ts';
import { safeRedirect, withReturnTo } from '../guard/redirect.ts';
import type { RequestSessionState } from '../server/context.ts';
import type { AstroGuardContext } from './config.ts';
import {
  csrfWantsJson,
  decideRequest,
  guardedRoutes,
  type RequestGuardInfo,
  requestGuardInfo,
  wantsJson,
} from './guarding.ts';
import { inspectPath, inspectSession, summarizeExplanation } from './inspect.ts';
import { csrfRejection, denialResponse, editHeaders, unavailableResponse } from './responses.ts';
import { getRuntime, type SessionkitRuntime } from './runtime.ts';

const bridgeKey = '__session__';

interface LoadedSession {
  readonly session: Session<Record<string, unknown>>;
  readonly valid: boolean;
  readonly storeUnavailable: boolean;
}

/** Bridge mode: the session data lives in Astro's own session, under `__session__`. */
async function loadBridgedSession(runtime: SessionkitRuntime, context: APIContext): Promise<LoadedSession> {
  const { session } = await runtime.manager.load(null);
  const data = (await context.session?.get(bridgeKey)) as Record<string, unknown> | undefined;
  if (data !== null && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) session.set(key, value as never);
  }
  markSessionCommitted(session as Session<SessionData>);
  return { session, valid: true, storeUnavailable: false };
}

/** Runs the rest of the chain with `state` as the request's session context (for `getSession()`). */
function runInContext(runtime: SessionkitRuntime, state: RequestSessionState, next: MiddlewareNext): Promise<Response> {
  return runtime.contextStore === undefined ? next() : runtime.contextStore.run(state, next);
}

/** The stand-in while the session store is unreachable: an empty, unsaved session. Rethrows any other error. */
async function outageSession(runtime: SessionkitRuntime, error: unknown): Promise<LoadedSession> {
  if (!isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) throw error;
  const { session } = await runtime.manager.load(null);
  return { session, valid: false, storeUnavailable: true };
}

function loadedSessionOf(result: LoadResult<Record<string, unknown>, SessionData>): LoadedSession {
  return { session: result.session, valid: result.status === 'valid', storeUnavailable: false };
}

/**
 * Loads the request's session; a store outage gives an empty session marked `storeUnavailable`.
 * Synchronous when the manager answers synchronously (a remembered cookie, no cookie).
 */
function loadSession(runtime: SessionkitRuntime, context: APIContext): MaybePromise<LoadedSession> {
  if (runtime.bridge === 'astro-session') return loadBridgedSession(runtime, context);
  let loading: MaybePromise<LoadResult<Record<string, unknown>, SessionData>>;
  try {
    loading = runtime.immediate.load(context.request);
  } catch (error) {
    return outageSession(runtime, error);
  }
  if (loading instanceof Promise) return loading.then(loadedSessionOf, (error) => outageSession(runtime, error));
  return loadedSessionOf(loading);
}

/** Writes a bridged session back into Astro's own session. */
async function commitBridge(context: APIContext, state: RequestSessionState): Promise<void> {
  const astroSession = context.session;
  if (astroSession === undefined) return;
  const current = state.session;
  const signedOut = state.retired.length > 0;
  if (current.isDestroyed || (signedOut && !current.isModified)) {
    astroSession.destroy();
    return;
  }
  if (!current.isModified && !signedOut) return;
  // After destroy(), Astro's set() starts a new session: what a sign-out then sign-in needs.
  if (signedOut) astroSession.destroy();
  astroSession.set(bridgeKey, { ...current.data });
  if (!signedOut && sessionChangesOf(current as Session<SessionData>).previousId !== undefined) {
    await astroSession.regenerate();
  }
}

/**
 * Commits every session of the request and returns the `Set-Cookie` values, deduplicated.
 * Synchronous for the common request: one session, unchanged.
 */
function commitCookies(runtime: SessionkitRuntime, state: RequestState): MaybePromise<string[]> {
  const always = state.tokenIssued() && state.session.isNew;
  if (state.retired.length === 0) return runtime.immediate.commit(state.session, always ? { always } : undefined);
  return commitWithRetired(runtime, state, always);
}

/** A sign-out then sign-in in one request: the replaced sessions are committed first. */
async function commitWithRetired(runtime: SessionkitRuntime, state: RequestSessionState, always: boolean) {
  const lines: string[] = [];
  for (const retired of state.retired) lines.push(...(await runtime.manager.commit(retired)));
  lines.push(...(await runtime.manager.commit(state.session, { always })));
  // A sign-out followed by a sign-in deletes and sets the same cookie: keep only the last line per name.
  const nameOf = (line: string): string => line.slice(0, line.indexOf('='));
  const lastIndexByName = new Map(lines.map((line, index) => [nameOf(line), index]));
  return lines.filter((line, index) => lastIndexByName.get(nameOf(line)) === index);
}

function errorDecision(
  runtime: SessionkitRuntime,
  context: APIContext,
  status: 401 | 403,
): Exclude<GuardDecision<never, never>, { action: 'allow' }> {
  const url = context.url;
  if (status === 401 && !wantsJson(runtime, context)) {
    const location = withReturnTo(runtime.guard.loginLocation, safeRedirect(url.pathname + url.search, url));
    return { action: 'redirect', status: 303, location, reason: 'unauthenticated', rule: undefined as never };
  }
  const body =
    status === 401
      ? { error: { code: 'ERR_UNAUTHENTICATED' as const, message: 'Sign-in required.' } }
      : { error: { code: 'ERR_FORBIDDEN' as const, message: 'Access denied.' } };
  return { action: 'deny', status, reason: status === 401 ? 'unauthenticated' : 'forbidden', body, rule: undefined };
}

/** Dev toolbar data: the redacted session and the guard's explanation for `?path=`. */
async function inspect(runtime: SessionkitRuntime, context: APIContext, session: Session<Record<string, unknown>>) {
  const path = context.url.searchParams.get('path') ?? '/';
  const explanation = await runtime.guard.explain({ session: session.data, path, method: 'GET', accept: 'text/html' });
  const body = { session: inspectSession(session), guard: summarizeExplanation(explanation) };
  return new Response(JSON.stringify(body), {
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * The answer to a denial: the app's own forbidden page (rendered through a rewrite, status 403)
 * for page visits when `forbiddenPage` is set, otherwise sessionkit's redirect, page or JSON.
 */
async function deny(
  runtime: SessionkitRuntime,
  context: APIContext,
  decision: Exclude<GuardDecision<never, never>, { action: 'allow' }>,
  json: boolean,
): Promise<Response> {
  if (decision.action === 'deny' && decision.status === 403 && !json && runtime.forbiddenPage !== undefined) {
    const page = await context.rewrite(runtime.forbiddenPage);
    const headers = new Headers(page.headers);
    headers.set('cache-control', 'no-store');
    return new Response(page.body, { status: 403, headers });
  }
  return denialResponse(decision, json);
}

/**
 * The request state the app sees as `context.locals.sessionkit` (and through `getSession()`).
 * The CSRF token is issued on first use for the session id current at that moment (so a page
 * rendered after a sign-in carries a token of the new session), once per id, where the MAC is
 * synchronous (node:crypto); on WebCrypto one token for the loaded session is issued before the
 * page runs ({@link RequestState.prepareToken}). Bridge mode has no token (sessions are Astro's):
 * only origin checks apply.
 */
class RequestState implements RequestSessionState {
  session: Session<Record<string, unknown>>;
  readonly manager: SessionManager<Record<string, unknown>>;
  readonly access: RequestSessionState['access'];
  readonly storeUnavailable: boolean;
  readonly retired: Session<Record<string, unknown>>[] = [];
  readonly pending: Promise<unknown>[] = [];
  readonly #csrf: CsrfProtection | undefined;
  readonly #issuesLazily: boolean;
  #tokenUsed = false;
  #tokenFor: string | undefined;
  #token = '';

  constructor(runtime: SessionkitRuntime, loaded: LoadedSession) {
    this.session = loaded.session;
    this.manager = runtime.manager;
    this.access = runtime.access as RequestSessionState['access'];
    this.storeUnavailable = loaded.storeUnavailable;
    this.#csrf = runtime.bridge === undefined ? runtime.csrf : undefined;
    this.#issuesLazily = this.#csrf?.issuesSynchronously ?? true;
  }

  get csrfToken(): string {
    this.#tokenUsed = true;
    const csrf = this.#csrf;
    if (csrf === undefined) return '';
    const sessionId = this.session.id;
    if (this.#issuesLazily && this.#tokenFor !== sessionId) {
      this.#token = csrf.issueTokenSync(sessionId) as string;
      this.#tokenFor = sessionId;
    }
    return this.#token;
  }

  /** True once the request read its CSRF token: the response is then personal, and a new session is saved. */
  tokenIssued(): boolean {
    return this.#tokenUsed;
  }

  /** On WebCrypto, issues the loaded session's token before the page runs (the getter cannot wait). */
  prepareToken(): Promise<void> | undefined {
    const csrf = this.#csrf;
    if (csrf === undefined || this.#issuesLazily) return undefined;
    const sessionId = this.session.id;
    return csrf.issueToken(sessionId).then((token) => {
      this.#token = token;
      this.#tokenFor = sessionId;
    });
  }
}

/**
 * One request's pass through the middleware after its session is loaded: CSRF, guard, page,
 * commit, headers. Each step returns a promise only when it really waits, so the common request
 * (safe method, synchronous guard, unchanged session) awaits nothing but the page.
 */
class RequestFlow {
  readonly info: RequestGuardInfo;

  constructor(
    readonly runtime: SessionkitRuntime,
    readonly context: APIContext,
    readonly next: MiddlewareNext,
    readonly loaded: LoadedSession,
    readonly state: RequestState,
  ) {
    this.info = requestGuardInfo(context);
  }

  /** Classified only when sessionkit answers by itself (denials, outages): most requests never need it. */
  json(): boolean {
    return wantsJson(this.runtime, this.context);
  }

  /** The CSRF check of unsafe methods, then the route. */
  start(): MaybePromise<Response> {
    const { runtime, context, loaded } = this;
    const csrf = runtime.csrf;
    if (csrf === undefined || isSafeMethod(context.request.method) || runtime.csrfExempt?.(context))
      return this.route();
    const verifying = csrf.verifyRequest(context.request, {
      sessionId: loaded.valid ? loaded.session.id : undefined,
      path: context.routePattern,
      origin: context.url.origin,
      requireToken: runtime.bridge === undefined,
    });
    return verifying.then((verdict) =>
      verdict.ok ? this.route() : csrfRejection(verdict, csrfWantsJson(runtime, context)),
    );
  }

  /** The dev inspector, or the guard's decision on the route. */
  route(): MaybePromise<Response> {
    const { runtime, context } = this;
    if (runtime.inspector && context.url.pathname === inspectPath)
      return inspect(runtime, context, this.loaded.session);
    const decision = decideRequest(runtime, context, this.info);
    return decision instanceof Promise ? decision.then((settled) => this.respond(settled)) : this.respond(decision);
  }

  /** Renders the page in the session context (or answers the denial), then commits. */
  respond(decision: GuardDecision<Record<string, unknown>, AstroGuardContext>): Promise<Response> {
    const { runtime, context, state } = this;
    if (decision.action !== 'allow') {
      runtime.emitDenial(decision, context);
      return this.answerDenial(decision);
    }
    let rendered: Promise<Response>;
    try {
      rendered = runInContext(runtime, state, this.next);
    } catch (error) {
      rendered = Promise.reject(error);
    }
    return rendered.then(
      (response) => this.finish(response),
      (error) => this.renderFailed(error),
    );
  }

  /** sessionkit's answer to a denial, committed like a page. */
  answerDenial(decision: Exclude<GuardDecision<never, never>, { action: 'allow' }>): Promise<Response> {
    return deny(this.runtime, this.context, decision, this.json()).then((response) => this.finish(response));
  }

  /** A store outage met by the page itself (e.g. listing sessions) is a 503 too, not a 500. */
  renderFailed(error: unknown): MaybePromise<Response> {
    if (isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) return unavailableResponse(this.json());
    if (!isSessionKitError(error, 'ERR_UNAUTHENTICATED') && !isSessionKitError(error, 'ERR_FORBIDDEN')) throw error;
    return this.answerDenial(errorDecision(this.runtime, this.context, error.status as 401 | 403));
  }

  /** Waits for session work the app started without `await`, then commits. */
  finish(response: Response): MaybePromise<Response> {
    const pending = this.state.pending;
    if (pending.length > 0) return Promise.all(pending).then(() => this.commit(response));
    return this.commit(response);
  }

  commit(response: Response): MaybePromise<Response> {
    const { runtime, state } = this;
    if (runtime.bridge === 'astro-session') {
      return commitBridge(this.context, state).then(() => this.withHeaders(response, []));
    }
    if (this.loaded.storeUnavailable) return this.withHeaders(response, []);
    let cookies: MaybePromise<string[]>;
    try {
      cookies = commitCookies(runtime, state);
    } catch (error) {
      return this.commitFailed(error);
    }
    if (cookies instanceof Promise) {
      return cookies.then(
        (lines) => this.withHeaders(response, lines),
        (error) => this.commitFailed(error),
      );
    }
    return this.withHeaders(response, cookies);
  }

  commitFailed(error: unknown): Response {
    if (!isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) throw error;
    return unavailableResponse(this.json());
  }

  /** The cookies, and `private, no-store` plus `Vary: Cookie` on personal responses. */
  withHeaders(response: Response, cookies: string[]): Response {
    const { state, info } = this;
    // Pages carrying the session's CSRF token are personal too, even when no cookie changed.
    const personal =
      cookies.length > 0 || state.tokenIssued() || info.protected || state.session.data.userId !== undefined;
    if (!personal) return response;
    return editHeaders(response, (headers) => {
      if (info.protected || !headers.has('cache-control')) headers.set('cache-control', 'private, no-store');
      for (const line of cookies) headers.append('set-cookie', line);
      headers.append('vary', 'Cookie');
    });
  }
}

/**
 * `context.rewrite()` / `Astro.rewrite()` re-run the whole chain: the outer run loaded the
 * session and will commit it; only the new route needs checking.
 */
function handleRerun(
  runtime: SessionkitRuntime,
  context: APIContext,
  next: MiddlewareNext,
  existing: RequestSessionState,
): MaybePromise<Response> {
  return mapMaybe(decideRequest(runtime, context, requestGuardInfo(context)), (decision) => {
    if (decision.action !== 'allow') {
      runtime.emitDenial(decision, context);
      return denialResponse(decision, wantsJson(runtime, context));
    }
    return runInContext(runtime, existing, next);
  });
}

/** The loaded session's request: the outage answer, or the request state and its flow. */
function begin(
  runtime: SessionkitRuntime,
  context: APIContext,
  next: MiddlewareNext,
  loaded: LoadedSession,
): MaybePromise<Response> {
  if (loaded.storeUnavailable && guardedRoutes(runtime, context))
    return unavailableResponse(wantsJson(runtime, context));
  const state = new RequestState(runtime, loaded);
  const preparing = state.prepareToken();
  (context.locals as { sessionkit?: RequestSessionState }).sessionkit = state;
  const flow = new RequestFlow(runtime, context, next, loaded, state);
  return preparing === undefined ? flow.start() : preparing.then(() => flow.start());
}

/**
 * The whole per-request flow: load, CSRF, guard, run the chain in the session context, commit.
 * Runs in the `pre` middleware, or in the `post` one in bridge mode (the app's own middleware
 * must fill `context.session`'s `__session__` first). Returns a promise only when something
 * waits; a synchronous throw is Astro's error path, as a rejection would be.
 */
export function handleRequest(context: APIContext, next: MiddlewareNext): MaybePromise<Response> {
  const runtime = getRuntime();
  const existing = (context.locals as { sessionkit?: RequestSessionState }).sessionkit;
  if (existing !== undefined) return handleRerun(runtime, context, next, existing);
  const loaded = loadSession(runtime, context);
  if (loaded instanceof Promise) return loaded.then((settled) => begin(runtime, context, next, settled));
  return begin(runtime, context, next, loaded);
}

/** The `pre` middleware. */
export const onRequest: MiddlewareHandler = (context, next) => {
  if (context.isPrerendered || getRuntime().bridge !== undefined) return next();
  return handleRequest(context, next);
};
