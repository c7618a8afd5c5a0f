/**
 * The guard's answers: the decision types, and how each denial is answered (the sign-in
 * redirect with its return-to location, a rule's `redirectTo`, JSON 401/403 bodies, 400 for a
 * path that cannot be read). The one place that turns "who failed what" into a decision, for
 * `decide()` and `explain()` alike.
 *
 * @module
 */
import { safeRedirect, withReturnTo } from './redirect.ts';
import type { RequestKind } from './request-kind.ts';
import type { GuardRule, GuardSession, ProtectRule } from './rules.ts';

/**
 * The stable code in a deny body.
 *
 * @example
 * ```ts
 * if (decision.action === 'deny' && decision.body.error.code === 'ERR_UNAUTHENTICATED') showSignIn();
 * ```
 */
export type GuardDenyCode = 'ERR_UNAUTHENTICATED' | 'ERR_FORBIDDEN' | 'ERR_BAD_REQUEST';

/**
 * The JSON body of a deny decision.
 *
 * @example
 * ```ts
 * if (decision.action === 'deny') return Response.json(decision.body, { status: decision.status });
 * ```
 */
export interface GuardDenyBody {
  readonly error: { readonly code: GuardDenyCode; readonly message: string };
}

/**
 * The guard's answer: a discriminated union on `action`.
 *
 * - `allow`: go on. `rule` is the first protecting rule that passed, or the public exception
 *   that made the path public, or `undefined` when no rule covers the path.
 * - `redirect` (page requests only, status 303): to the sign-in page with `returnTo` when there is
 *   no session, or to the failing rule's `redirectTo` when the session lacks access.
 * - `deny`: 400 for a path that cannot be interpreted safely, 401 without a session (API
 *   requests), 403 when the session lacks access. `body` is a ready JSON body.
 *
 * @example
 * ```ts
 * const decision = await guard.decide(input);
 * if (decision.action === 'redirect') return Response.redirect(new URL(decision.location, request.url), decision.status);
 * if (decision.action === 'deny') return Response.json(decision.body, { status: decision.status });
 * ```
 */
export type GuardDecision<S extends object = GuardSession, C = unknown> =
  | { readonly action: 'allow'; readonly rule: GuardRule<S, C> | undefined }
  | {
      readonly action: 'redirect';
      readonly status: 303;
      readonly location: string;
      readonly reason: 'unauthenticated' | 'forbidden';
      readonly rule: ProtectRule<S, C>;
    }
  | {
      readonly action: 'deny';
      readonly status: 400 | 401 | 403;
      readonly reason: 'bad-path' | 'unauthenticated' | 'forbidden';
      readonly body: GuardDenyBody;
      readonly rule: ProtectRule<S, C> | undefined;
    };

/**
 * Where a guard sends denied requests, fixed at construction.
 * @internal
 */
export interface Destinations {
  /** The login location sent in redirects (base included). */
  readonly loginLocation: string;
  /** The base as the user spelled it, without trailing slashes: prefixed to every `redirectTo`. */
  readonly basePrefix: string;
  readonly returnToParam: string;
}

/** Any origin works: return-to locations are paths, resolved only to be validated. @internal */
export const PATH_ORIGIN = 'http://sessionkit.invalid';

function body(code: GuardDenyCode, message: string): GuardDenyBody {
  return Object.freeze({ error: Object.freeze({ code, message }) });
}
const BODY_BAD_PATH = body('ERR_BAD_REQUEST', 'The request path is not acceptable.');
const BODY_UNAUTHENTICATED = body('ERR_UNAUTHENTICATED', 'Sign-in required.');
const BODY_FORBIDDEN = body('ERR_FORBIDDEN', 'Access denied.');

/** Nothing covers the path: one frozen decision, so the common case allocates nothing. @internal */
export const ALLOW_UNPROTECTED = Object.freeze({ action: 'allow', rule: undefined }) as GuardDecision<never, never>;

/** The path or route cannot be interpreted safely. @internal */
export const DENY_BAD_PATH = Object.freeze({
  action: 'deny',
  status: 400,
  reason: 'bad-path',
  body: BODY_BAD_PATH,
  rule: undefined,
}) as GuardDecision<never, never>;

/** `prefix` + `path`, for the base and a location (`/app` + `/` is `/app/`). @internal */
export function joinPath(prefix: string, path: string): string {
  return prefix === '' ? path : path === '/' ? `${prefix}/` : `${prefix}${path}`;
}

/**
 * No session where one is required: the sign-in redirect (with the request's path and query as
 * the return-to location, when it is a safe one) for page visits, 401 for everything else.
 * @internal
 */
export function unauthenticated<S extends object, C>(
  destinations: Destinations,
  rule: ProtectRule<S, C>,
  kind: RequestKind,
  path: string,
  search: unknown,
): GuardDecision<S, C> {
  if (kind !== 'page') {
    return { action: 'deny', status: 401, reason: 'unauthenticated', body: BODY_UNAUTHENTICATED, rule };
  }
  const query = typeof search === 'string' && search.startsWith('?') ? search : '';
  const returnTo = safeRedirect(`${path}${query}`, PATH_ORIGIN, null);
  const { loginLocation, returnToParam } = destinations;
  const location = returnTo === null ? loginLocation : withReturnTo(loginLocation, returnTo, returnToParam);
  return { action: 'redirect', status: 303, location, reason: 'unauthenticated', rule };
}

/**
 * A signed-in session failed `rule`: its `redirectTo` for page visits when it has one, else 403.
 * @internal
 */
export function forbidden<S extends object, C>(
  destinations: Destinations,
  rule: ProtectRule<S, C>,
  kind: RequestKind,
): GuardDecision<S, C> {
  if (rule.redirectTo !== undefined && kind === 'page') {
    const location = joinPath(destinations.basePrefix, rule.redirectTo);
    return { action: 'redirect', status: 303, location, reason: 'forbidden', rule };
  }
  return { action: 'deny', status: 403, reason: 'forbidden', body: BODY_FORBIDDEN, rule };
}
