/**
 * Running the guard on what Astro actually routes: the matched `routePattern` and Astro's
 * normalised `url.pathname`, plus the raw request path when it differs (encoded or doubled
 * characters), taking the strictest answer. The `post` middleware re-checks when a `next('/x')`
 * rewrite changed the route after the `pre` check.
 *
 * @module
 */
import type { APIContext } from 'astro';
import { mapMaybe } from '../core/maybe-promise.ts';
import type { GuardDecision } from '../guard/index.ts';
import { decideImmediately, requestKindOf } from '../guard/internal.ts';
import type { AstroGuardContext } from './config.ts';
import type { SessionkitRuntime } from './runtime.ts';

/** What the `pre` middleware learned about a request, for the `post` middleware and the response. */
export interface RequestGuardInfo {
  /** The route pattern the guard checked. */
  checkedRoute: string;
  /** True when a protecting rule covers the request (its response is then `no-store`). */
  protected: boolean;
}

// Kept on `locals` (shared by the middlewares and rewrites of one request) under a symbol: not
// enumerable by app code that walks `locals`, and cheaper per request than a WeakMap entry.
const guardInfoKey = Symbol('sessionkit.guard');

/** The guard info of a request, created on first use. */
export function requestGuardInfo(context: APIContext): RequestGuardInfo {
  const locals = context.locals as { [guardInfoKey]?: RequestGuardInfo };
  let info = locals[guardInfoKey];
  if (info === undefined) {
    info = { checkedRoute: context.routePattern, protected: false };
    locals[guardInfoKey] = info;
  }
  return info;
}

const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;
const HASH = 0x23;

type Decision = GuardDecision<Record<string, unknown>, AstroGuardContext>;

/**
 * The guard's input for one request path. The headers are read only when the guard answers by
 * itself (a page or an API answer), so they are getters, on the prototype (no closures per request).
 */
class RequestGuardInput {
  readonly search: string;
  readonly method: string;
  readonly routePattern: string;
  readonly context: AstroGuardContext;
  readonly #request: Request;

  constructor(
    context: APIContext,
    request: Request,
    readonly session: Record<string, unknown> | undefined,
    readonly path: string,
  ) {
    this.search = context.url.search;
    this.method = request.method;
    this.routePattern = context.routePattern;
    this.context = context as unknown as AstroGuardContext;
    this.#request = request;
  }

  get accept(): string | null {
    return this.#request.headers.get('accept');
  }

  get contentType(): string | null {
    return this.#request.headers.get('content-type');
  }
}

/** The path of an absolute URL as sent (no normalisation), without building a `URL` object. */
export function rawPathOf(url: string): string {
  const authority = url.indexOf('//');
  let start = authority === -1 ? 0 : authority + 2;
  while (start < url.length) {
    const code = url.charCodeAt(start);
    if (code === SLASH || code === QUESTION_MARK || code === HASH) break;
    start++;
  }
  if (start === url.length || url.charCodeAt(start) !== SLASH) return '/';
  let end = start;
  while (end < url.length) {
    const code = url.charCodeAt(end);
    if (code === QUESTION_MARK || code === HASH) break;
    end++;
  }
  return url.slice(start, end);
}

/** Decides a request and records the outcome in `info`. Synchronous unless a rule's hook is async. */
export function decideRequest(
  runtime: SessionkitRuntime,
  context: APIContext,
  info: RequestGuardInfo,
): Decision | Promise<Decision> {
  const state = (context.locals as { sessionkit?: { session: { data: Record<string, unknown> } } }).sessionkit;
  const request = context.request;
  const session = state?.session.data;
  const input = (path: string) => new RequestGuardInput(context, request, session, path);
  const rawPath = rawPathOf(request.url);
  const record = (decision: Decision): Decision => {
    info.checkedRoute = context.routePattern;
    info.protected ||= decision.action !== 'allow' || (decision.rule !== undefined && !('public' in decision.rule));
    return decision;
  };
  // Astro's normalised path first; then, when the raw path differs (encoded or doubled
  // characters), the raw one too: the stricter answer wins.
  const second = (first: Decision): Decision | Promise<Decision> => {
    if (first.action !== 'allow' || rawPath === context.url.pathname) return record(first);
    return mapMaybe(decideImmediately(runtime.guard, input(rawPath)), record);
  };
  return mapMaybe(decideImmediately(runtime.guard, input(context.url.pathname)), second);
}

/** True when the request's path or route is covered by a protecting rule (for the outage answer). */
export function guardedRoutes(runtime: SessionkitRuntime, context: APIContext): boolean {
  const method = context.request.method;
  const byPath = runtime.guard.match(context.url.pathname, method);
  const byRoute = runtime.guard.matchRoute(context.routePattern, method);
  return !byPath.ok || byPath.required.length > 0 || (byRoute.ok && byRoute.required.length > 0);
}

/** The request facts the guard's classifier reads. */
function requestFacts(context: APIContext) {
  const request = context.request;
  return {
    path: context.url.pathname,
    method: request.method,
    accept: request.headers.get('accept'),
    contentType: request.headers.get('content-type'),
  };
}

/** True when the request is an API request (JSON answers), classified exactly as the guard does. */
export function wantsJson(runtime: SessionkitRuntime, context: APIContext): boolean {
  return runtime.guard.classify(requestFacts(context)) === 'api';
}

/**
 * True when a CSRF refusal should be JSON: by the same classifier, anything but a page visit or a
 * browser form submission (which get an HTML page).
 */
export function csrfWantsJson(runtime: SessionkitRuntime, context: APIContext): boolean {
  return requestKindOf(runtime.guard, requestFacts(context)) === 'api';
}
