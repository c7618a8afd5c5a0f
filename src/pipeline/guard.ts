/**
 * The guard step: the route rules on what the router actually serves, that is the URL's path,
 * the raw request path when it differs (encoded or doubled characters) and the router's route
 * pattern when the framework has one, taking the strictest answer. The outcome is recorded on
 * the request state (which route was checked, and whether a rule protects it).
 *
 * @module
 */
import { mapMaybe } from '../core/maybe-promise.ts';
import type { GuardDecision } from '../guard/index.ts';
import { decideImmediately } from '../guard/internal.ts';
import type { PipelineRuntime } from './options.ts';
import type { RequestState } from './state.ts';

type Data = Record<string, unknown>;

/** A guard answer that is not `allow`. */
export type GuardDenial = Exclude<GuardDecision<never, never>, { action: 'allow' }>;

/** What the guard step needs to know about a request. */
export interface GuardedRequest<Context> {
  readonly request: Request;
  readonly url: URL;
  readonly routePattern: string | undefined;
  readonly context: Context;
}

const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;
const HASH = 0x23;

/**
 * The guard's input for one reading of the request path. The headers are read only when the guard
 * answers by itself, so they are getters, on the prototype (no closures per request).
 */
class GuardInput<Context> {
  readonly search: string;
  readonly method: string;
  readonly routePattern: string | undefined;
  readonly context: Context;
  readonly #request: Request;

  constructor(
    subject: GuardedRequest<Context>,
    readonly session: Data | undefined,
    readonly path: string,
  ) {
    this.search = subject.url.search;
    this.method = subject.request.method;
    this.routePattern = subject.routePattern;
    this.context = subject.context;
    this.#request = subject.request;
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

/** Decides a request and records the outcome on `state`. Synchronous unless a rule's hook is async. */
export function guardRequest<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  state: RequestState,
): GuardDecision<Data, Context> | Promise<GuardDecision<Data, Context>> {
  const session = state.session.data;
  const rawPath = rawPathOf(subject.request.url);
  const record = (decision: GuardDecision<Data, Context>): GuardDecision<Data, Context> => {
    state.checkedRoute = subject.routePattern;
    state.guarded ||= decision.action !== 'allow' || (decision.rule !== undefined && !('public' in decision.rule));
    return decision;
  };
  // The URL's path first; then, when the raw path differs (encoded or doubled characters), the
  // raw one too: the stricter answer wins.
  const second = (first: GuardDecision<Data, Context>) => {
    if (first.action !== 'allow' || rawPath === subject.url.pathname) return record(first);
    return mapMaybe(decideImmediately(runtime.guard, new GuardInput(subject, session, rawPath)), record);
  };
  return mapMaybe(decideImmediately(runtime.guard, new GuardInput(subject, session, subject.url.pathname)), second);
}

/** True when a protecting rule covers the request's path or route (an outage then answers 503). */
export function isGuarded<Context>(runtime: PipelineRuntime<Context>, subject: GuardedRequest<Context>): boolean {
  const method = subject.request.method;
  const byPath = runtime.guard.match(subject.url.pathname, method);
  if (!byPath.ok || byPath.required.length > 0) return true;
  if (subject.routePattern === undefined) return false;
  const byRoute = runtime.guard.matchRoute(subject.routePattern, method);
  return byRoute.ok && byRoute.required.length > 0;
}

/** Reports a guard denial as a `guard.denied` event, without session data. */
export function reportDenial<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  decision: GuardDenial,
  sessionId: string | undefined,
): void {
  runtime.reporter.emit({
    type: 'guard.denied',
    status: decision.status,
    path: subject.url.pathname.slice(0, 200),
    pattern: decision.rule?.pattern,
    sessionId,
  });
}
