/**
 * sessionkit's `pre` middleware: loads the session, checks CSRF and the guard, runs the rest of
 * the chain inside the session context, then commits the session onto the response.
 * Registered by the integration as `sessionkit/astro/middleware` (order `pre`, so the user's
 * `src/middleware.ts` sees `context.locals.sessionkit` and cannot reach a protected route first).
 *
 * @module
 */
import type { APIContext, MiddlewareHandler, MiddlewareNext } from 'astro';
import { isSessionKitError } from '../core/errors.ts';
import { markSessionCommitted, type Session, type SessionData, sessionChangesOf } from '../core/session.ts';
import { isSafeMethod } from '../csrf/protection.ts';
import type { GuardDecision } from '../guard/decide.ts';
import { safeRedirect, withReturnTo } from '../guard/redirect.ts';
import type { RequestSessionState } from '../server/context.ts';
import { decideRequest, guardedRoutes, type RequestGuardInfo, requestGuardInfo, wantsJson } from './guarding.ts';
import { inspectPath, inspectSession, summarizeExplanation } from './inspect.ts';
import { acceptsHtml, csrfRejection, denialResponse, editHeaders, unavailableResponse } from './responses.ts';
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

/** Loads the request's session; a store outage gives an empty session marked `storeUnavailable`. */
async function loadSession(runtime: SessionkitRuntime, context: APIContext): Promise<LoadedSession> {
  if (runtime.bridge === 'astro-session') return loadBridgedSession(runtime, context);
  try {
    const loaded = await runtime.manager.load(context.request);
    return { session: loaded.session, valid: loaded.status === 'valid', storeUnavailable: false };
  } catch (error) {
    if (!isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) throw error;
    const { session } = await runtime.manager.load(null);
    return { session, valid: false, storeUnavailable: true };
  }
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

/** Commits every session of the request and returns the `Set-Cookie` values, deduplicated. */
function commitCookies(runtime: SessionkitRuntime, state: RequestSessionState, tokenUsed: boolean): Promise<string[]> {
  const always = tokenUsed && state.session.isNew;
  if (state.retired.length === 0) return runtime.manager.commit(state.session, always ? { always } : undefined);
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
 * The request's CSRF token, issued on first use for the session id current at that moment (so a
 * page rendered after a sign-in carries a token of the new session), once per id. Issued lazily
 * where the MAC is synchronous (node:crypto); on WebCrypto one token for the loaded session is
 * issued up front. Bridge mode has no token (sessions are Astro's): only origin checks apply.
 */
function csrfTokenSource(
  runtime: SessionkitRuntime,
  loadedId: string,
): ((sessionId: string) => string) | Promise<(sessionId: string) => string> {
  const csrf = runtime.csrf;
  if (csrf === undefined || runtime.bridge !== undefined) return () => '';
  if (!csrf.issuesSynchronously) return csrf.issueToken(loadedId).then((token) => () => token);
  let issuedFor: string | undefined;
  let token = '';
  return (sessionId) => {
    if (issuedFor !== sessionId) {
      token = csrf.issueTokenSync(sessionId) as string;
      issuedFor = sessionId;
    }
    return token;
  };
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
 * The whole per-request flow: load, CSRF, guard, run the chain in the session context, commit.
 * Runs in the `pre` middleware, or in the `post` one in bridge mode (the app's own middleware
 * must fill `context.session`'s `__session__` first).
 */
export async function handleRequest(context: APIContext, next: MiddlewareNext): Promise<Response> {
  const runtime = getRuntime();
  const existing = (context.locals as { sessionkit?: RequestSessionState }).sessionkit;
  if (existing !== undefined) {
    // context.rewrite() / Astro.rewrite() re-run the whole chain: the outer run loaded the
    // session and will commit it; only the new route needs checking.
    const decision = await decideRequest(runtime, context, requestGuardInfo(context));
    if (decision.action !== 'allow') {
      runtime.emitDenial(decision, context);
      return denialResponse(decision, wantsJson(runtime, context));
    }
    return runtime.contextStore === undefined ? next() : runtime.contextStore.run(existing, next);
  }
  // Classified only when sessionkit answers by itself (denials, outages): most requests never need it.
  const json = () => wantsJson(runtime, context);
  const loaded = await loadSession(runtime, context);
  if (loaded.storeUnavailable && guardedRoutes(runtime, context)) return unavailableResponse(json());

  let tokenUsed = false;
  const tokenSource = csrfTokenSource(runtime, loaded.session.id);
  const csrfToken = typeof tokenSource === 'function' ? tokenSource : await tokenSource;
  const state: RequestSessionState = {
    session: loaded.session,
    manager: runtime.manager,
    access: runtime.access as RequestSessionState['access'],
    get csrfToken() {
      tokenUsed = true;
      return csrfToken(state.session.id);
    },
    storeUnavailable: loaded.storeUnavailable,
    retired: [],
    pending: [],
  };
  (context.locals as { sessionkit?: RequestSessionState }).sessionkit = state;

  const method = context.request.method;
  if (runtime.csrf !== undefined && !isSafeMethod(method) && !runtime.csrfExempt?.(context)) {
    const verdict = await runtime.csrf.verifyRequest(context.request, {
      sessionId: loaded.valid ? loaded.session.id : undefined,
      path: context.routePattern,
      origin: context.url.origin,
      requireToken: runtime.bridge === undefined,
    });
    if (!verdict.ok) return csrfRejection(verdict, !acceptsHtml(context.request));
  }

  if (runtime.inspector && context.url.pathname === inspectPath) return inspect(runtime, context, loaded.session);

  const info: RequestGuardInfo = requestGuardInfo(context);
  const pending = decideRequest(runtime, context, info);
  const decision = pending instanceof Promise ? await pending : pending;
  let response: Response;
  if (decision.action !== 'allow') {
    runtime.emitDenial(decision, context);
    response = await deny(runtime, context, decision, json());
  } else {
    try {
      response = runtime.contextStore === undefined ? await next() : await runtime.contextStore.run(state, next);
    } catch (error) {
      // A store outage met by the page itself (e.g. listing sessions) is a 503 too, not a 500.
      if (isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) return unavailableResponse(json());
      if (!isSessionKitError(error, 'ERR_UNAUTHENTICATED') && !isSessionKitError(error, 'ERR_FORBIDDEN')) throw error;
      response = await deny(runtime, context, errorDecision(runtime, context, error.status as 401 | 403), json());
    }
  }
  if (state.pending.length > 0) await Promise.all(state.pending);

  let cookies: string[] = [];
  if (runtime.bridge === 'astro-session') await commitBridge(context, state);
  else if (!loaded.storeUnavailable) {
    try {
      cookies = await commitCookies(runtime, state, tokenUsed);
    } catch (error) {
      if (!isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) throw error;
      return unavailableResponse(json());
    }
  }
  // Pages carrying the session's CSRF token are personal too, even when no cookie changed.
  const personal = cookies.length > 0 || tokenUsed || info.protected || state.session.data.userId !== undefined;
  if (!personal) return response;
  return editHeaders(response, (headers) => {
    if (info.protected || !headers.has('cache-control')) headers.set('cache-control', 'private, no-store');
    for (const line of cookies) headers.append('set-cookie', line);
    headers.append('vary', 'Cookie');
  });
}

/** The `pre` middleware. */
export const onRequest: MiddlewareHandler = (context, next) => {
  if (context.isPrerendered || getRuntime().bridge !== undefined) return next();
  return handleRequest(context, next);
};
