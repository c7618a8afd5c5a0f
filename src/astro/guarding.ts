/**
 * Running the guard on what Astro actually routes: the matched `routePattern` and Astro's
 * normalised `url.pathname`, plus the raw request path when it differs (encoded or doubled
 * characters), taking the strictest answer. The `post` middleware re-checks when a `next('/x')`
 * rewrite changed the route after the `pre` check.
 *
 * @module
 */
import type { APIContext } from 'astro';
import type { GuardDecision } from '../guard/decide.ts';
import type { AstroGuardContext } from './config.ts';
import type { SessionkitRuntime } from './runtime.ts';

/** What the `pre` middleware learned about a request, for the `post` middleware and the response. */
export interface RequestGuardInfo {
  /** The route pattern the guard checked. */
  checkedRoute: string;
  /** True when a protecting rule covers the request (its response is then `no-store`). */
  protected: boolean;
}

const infoByLocals = new WeakMap<object, RequestGuardInfo>();

/** The guard info of a request, created on first use. */
export function requestGuardInfo(context: APIContext): RequestGuardInfo {
  let info = infoByLocals.get(context.locals);
  if (info === undefined) {
    info = { checkedRoute: context.routePattern, protected: false };
    infoByLocals.set(context.locals, info);
  }
  return info;
}

type Decision = GuardDecision<Record<string, unknown>, AstroGuardContext>;

/** The path of an absolute URL as sent (no normalisation), without building a `URL` object. */
export function rawPathOf(url: string): string {
  const authority = url.indexOf('//');
  let start = authority === -1 ? 0 : authority + 2;
  while (start < url.length && url[start] !== '/' && url[start] !== '?' && url[start] !== '#') start++;
  if (start === url.length || url[start] !== '/') return '/';
  let end = start;
  while (end < url.length && url[end] !== '?' && url[end] !== '#') end++;
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
  const base = {
    session: state?.session.data,
    search: context.url.search,
    method: request.method,
    routePattern: context.routePattern,
    accept: request.headers.get('accept'),
    contentType: request.headers.get('content-type'),
    context: context as unknown as AstroGuardContext,
  };
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
    const again = runtime.guard.decide({ ...base, path: rawPath });
    return again instanceof Promise ? again.then(record) : record(again);
  };
  const first = runtime.guard.decide({ ...base, path: context.url.pathname });
  return first instanceof Promise ? first.then(second) : second(first);
}

/** True when the request's path or route is covered by a protecting rule (for the outage answer). */
export function guardedRoutes(runtime: SessionkitRuntime, context: APIContext): boolean {
  const method = context.request.method;
  const byPath = runtime.guard.match(context.url.pathname, method);
  const byRoute = runtime.guard.matchRoute(context.routePattern, method);
  return !byPath.ok || byPath.required.length > 0 || (byRoute.ok && byRoute.required.length > 0);
}

/** True when the request is an API request (JSON answers), classified exactly as the guard does. */
export function wantsJson(runtime: SessionkitRuntime, context: APIContext): boolean {
  const request = context.request;
  return (
    runtime.guard.classify({
      path: context.url.pathname,
      method: request.method,
      accept: request.headers.get('accept'),
      contentType: request.headers.get('content-type'),
    }) === 'api'
  );
}
