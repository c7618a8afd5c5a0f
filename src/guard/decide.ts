/**
 * The per-request decision: normalise the path, select the rules that apply, check the session
 * against them in order, answer. Nothing here records why: `explain()` (explain.ts) is the slow
 * path that does, from the same compiled guard and the same selection and checks.
 *
 * @module
 */
import { isAuthenticated } from './access.ts';
import { ALLOW_UNPROTECTED, DENY_BAD_PATH, forbidden, type GuardDecision, unauthenticated } from './answers.ts';
import type { CheckOutcome } from './check.ts';
import type { CompiledGuard } from './compile.ts';
import { analyzeWith } from './normalize.ts';
import { classifyRequest, isUnderPrefix, type RequestKind } from './request-kind.ts';
import type { CompiledRule, GuardSession, ProtectRule } from './rules.ts';
import type { Selection } from './select.ts';

/**
 * What `guard.decide()` needs to know about a request.
 *
 * @example
 * ```ts
 * const url = new URL(request.url);
 * const input: DecideInput<MySession> = { session, path: url.pathname, search: url.search, method: request.method };
 * ```
 */
export interface DecideInput<S extends object = GuardSession, C = unknown> {
  /** The session, or `null`/`undefined` when there is none. Unauthenticated unless `userId` is a non-empty string. */
  readonly session: S | null | undefined;
  /** The raw, still percent-encoded URL pathname (`url.pathname`). */
  readonly path: string;
  /** The URL's query string including `?` (`url.search`), kept in the return-to location. */
  readonly search?: string;
  /** The request method. Default `GET`. */
  readonly method?: string;
  /** The router's matched route pattern (Astro `context.routePattern`), also checked when given. */
  readonly routePattern?: string;
  /** The `Accept` request header. */
  readonly accept?: string | null;
  /** The `Content-Type` request header. */
  readonly contentType?: string | null;
  /** Passed as the second argument to `allow` and the third to `access.check`. */
  readonly context?: C;
}

/** The request method, upper case (`GET` when absent). @internal */
export function methodOf(method: unknown): string {
  return method === undefined ? 'GET' : String(method).toUpperCase();
}

/**
 * How a request is answered (see `RequestKind`), from its normalised path's `segments`.
 * @internal
 */
export function requestKindWith<S extends object, C>(
  guard: CompiledGuard<S, C>,
  method: string,
  input: Pick<DecideInput<S, C>, 'accept' | 'contentType'>,
  segments: readonly string[],
): RequestKind {
  return classifyRequest(
    { method, accept: input.accept, contentType: input.contentType },
    isUnderPrefix(segments, guard.apiPrefixes),
  );
}

/**
 * Decides a request. Synchronous unless an `allow` or `access.check` hook returned a promise;
 * never throws (a hook that fails denies).
 * @internal
 */
export function decideWith<S extends object, C>(
  guard: CompiledGuard<S, C>,
  input: DecideInput<S, C>,
): GuardDecision<S, C> | Promise<GuardDecision<S, C>> {
  if (typeof input !== 'object' || input === null) return DENY_BAD_PATH as GuardDecision<S, C>;
  const method = methodOf(input.method);
  const path = analyzeWith(input.path, guard.requestPaths);
  if (!path.ok) return DENY_BAD_PATH as GuardDecision<S, C>;
  const selector = guard.selector;
  const selection: Selection = { required: [], exception: -1 };
  selector.addReading(selection, path.segments, method);
  if (path.unsplitSegments !== undefined) selector.addReading(selection, path.unsplitSegments, method);
  if (input.routePattern !== undefined) {
    const route = guard.normalizeRoute(input.routePattern);
    if (!route.ok) return DENY_BAD_PATH as GuardDecision<S, C>;
    selector.addReading(selection, route.segments, method);
  }

  const required = selection.required;
  const compiled = selector.compiled;
  if (required.length === 0) {
    if (selection.exception === -1) return ALLOW_UNPROTECTED as GuardDecision<S, C>;
    return { action: 'allow', rule: (compiled[selection.exception] as CompiledRule<S, C>).rule };
  }

  const first = compiled[required[0] as number] as CompiledRule<S, C>;
  let authenticated: boolean;
  try {
    authenticated = isAuthenticated(input.session);
  } catch (error) {
    guard.checker.report(error, first, 'session');
    authenticated = false;
  }
  if (!authenticated) {
    const kind = requestKindWith(guard, method, input, path.segments);
    return unauthenticated(guard.destinations, first.rule as ProtectRule<S, C>, kind, input.path, input.search);
  }

  const session = input.session as S;
  const failed = firstFailure(guard, required, 0, session, input.context as C);
  if (typeof failed === 'number') return answer(guard, input, method, path.segments, required, failed);
  return failed.then((position) => answer(guard, input, method, path.segments, required, position));
}

/** The decision once `required` was checked: allow, or the answer to the rule at `failed`. */
function answer<S extends object, C>(
  guard: CompiledGuard<S, C>,
  input: DecideInput<S, C>,
  method: string,
  segments: readonly string[],
  required: readonly number[],
  failed: number,
): GuardDecision<S, C> {
  const compiled = guard.selector.compiled;
  if (failed === -1) return { action: 'allow', rule: (compiled[required[0] as number] as CompiledRule<S, C>).rule };
  const rule = (compiled[required[failed] as number] as CompiledRule<S, C>).rule as ProtectRule<S, C>;
  return forbidden(guard.destinations, rule, requestKindWith(guard, method, input, segments));
}

/** Checks `required[from…]` in order; the position of the first rule that does not pass, or -1. */
function firstFailure<S extends object, C>(
  guard: CompiledGuard<S, C>,
  required: readonly number[],
  from: number,
  session: S,
  context: C,
): number | Promise<number> {
  const { compiled } = guard.selector;
  for (let position = from; position < required.length; position++) {
    const outcome = guard.checker.check(compiled[required[position] as number] as CompiledRule<S, C>, session, context);
    if (outcome === 'pass') continue;
    if (typeof outcome === 'string') return position;
    return outcome.then((settled: CheckOutcome) =>
      settled === 'pass' ? firstFailure(guard, required, position + 1, session, context) : position,
    );
  }
  return -1;
}

/**
 * The request facts `guard.decide()` needs, read from a standard `Request`.
 *
 * @example
 * ```ts
 * const decision = await guard.decide({ ...requestInput(request), session, context });
 * ```
 */
export function requestInput(
  request: Request,
): Required<Pick<DecideInput, 'path' | 'search' | 'method' | 'accept' | 'contentType'>> {
  const url = new URL(request.url);
  return {
    path: url.pathname,
    search: url.search,
    method: request.method,
    accept: request.headers.get('accept'),
    contentType: request.headers.get('content-type'),
  };
}
