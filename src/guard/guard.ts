/**
 * `createGuard()`: validates and compiles the rules once, then answers per request whether to
 * allow, redirect to sign-in, or deny.
 *
 * Precedence (see docs/guard.md): every protecting rule that matches must pass; a public
 * exception that matches lifts protection only when it is strictly narrower than every protecting
 * rule that matches. Rules are evaluated in the order given, stopping at the first failure.
 *
 * @module
 */
import { promiseOf } from '../core/maybe-promise.ts';
import type { GuardDecision } from './answers.ts';
import { compileGuard, type GuardNames, type GuardOptions, guardNames } from './compile.ts';
import { type DecideInput, decideWith, methodOf, requestKindWith } from './decide.ts';
import { explainWith, type GuardExplanation } from './explain.ts';
import { COMPILED_GUARD } from './internal.ts';
import { type GuardMatch, matchWith } from './match.ts';
import { normalizeWith } from './normalize.ts';
import type { GuardRule, GuardSession } from './rules.ts';

/**
 * A compiled guard, see {@link createGuard}.
 *
 * @example
 * ```ts
 * const guard: Guard<MySession> = createGuard({ rules: [{ pattern: '/admin/**', role: 'admin' }] });
 * guard.match('/admin'); // { ok: true, path: '/admin', required: [ … ], … }
 * ```
 */
export interface Guard<S extends object = GuardSession, C = unknown> {
  /** The validated rules, frozen copies in the order given. */
  readonly rules: readonly GuardRule<S, C>[];
  /** The login location sent in redirects (base included). */
  readonly loginLocation: string;
  /** The rules that apply to a raw URL pathname and method (default `GET`). */
  match(path: string, method?: string): GuardMatch<S, C>;
  /** The rules that apply to a route pattern such as `/admin/[id]` and method (default `GET`). */
  matchRoute(routePattern: string, method?: string): GuardMatch<S, C>;
  /**
   * Whether a request is an API request (answered with JSON 401/403) or a page visit (redirects),
   * by the same rules `decide` uses: a method other than GET/HEAD, a JSON body, a path under
   * `apiPrefixes`, or an `Accept` header preferring JSON.
   */
  classify(input: Pick<DecideInput<S, C>, 'path' | 'method' | 'accept' | 'contentType'>): 'page' | 'api';
  /** Decides a request. Never rejects: a hook that throws or rejects denies (see `onError`). */
  decide(input: DecideInput<S, C>): Promise<GuardDecision<S, C>>;
  /** Same as {@link Guard.decide}, with the reasons. Slower: for development tools and tests. */
  explain(input: DecideInput<S, C>): Promise<GuardExplanation<S, C>>;
}

/**
 * Creates a guard: validates every rule and option, compiles the patterns into one trie, checks
 * that the login page (and every `redirectTo`) is reachable, and returns the per-request API.
 *
 * @throws `ERR_CONFIG_INVALID` on any mistake: unknown keys (with a did-you-mean hint), bad
 *   patterns, rules that require nothing, a public rule that contradicts a protecting rule with the
 *   same pattern and methods, or a login path / `redirectTo` that a rule protects.
 *
 * @example
 * ```ts
 * const guard = createGuard({
 *   loginPath: '/login',
 *   rules: [
 *     { pattern: '/dashboard/**', authenticated: true },
 *     { pattern: '/admin/**', role: 'admin' },
 *     { pattern: '/admin/help', public: true },
 *     { pattern: '/api/posts/**', methods: ['POST', 'PUT', 'DELETE'], permission: 'posts:write' },
 *   ],
 * });
 *
 * const url = new URL(request.url);
 * const decision = await guard.decide({ session, path: url.pathname, search: url.search, method: request.method, accept: request.headers.get('accept') });
 * if (decision.action === 'redirect') return new Response(null, { status: decision.status, headers: { location: decision.location } });
 * if (decision.action === 'deny') return Response.json(decision.body, { status: decision.status });
 * ```
 */
export function createGuard<S extends object = GuardSession, C = unknown>(options: GuardOptions<S, C>): Guard<S, C> {
  return createNamedGuard(options, guardNames('createGuard()'));
}

/**
 * {@link createGuard} whose error messages name the options and rules as the caller's users wrote
 * them (the pipeline's `protect`, the Astro integration's `sessionkit().protect`). Not exported
 * from `sessionkit/guard`.
 * @internal
 */
export function createNamedGuard<S extends object, C>(options: GuardOptions<S, C>, names: GuardNames): Guard<S, C> {
  const compiled = compileGuard(options, names);
  const guard: Guard<S, C> & { readonly [COMPILED_GUARD]: typeof compiled } = {
    [COMPILED_GUARD]: compiled,
    rules: compiled.rules,
    loginLocation: compiled.destinations.loginLocation,
    match: (path, method = 'GET') => matchWith(compiled, normalizeWith(path, compiled.requestPaths), methodOf(method)),
    matchRoute: (routePattern, method = 'GET') =>
      matchWith(compiled, compiled.normalizeRoute(routePattern), methodOf(method)),
    classify(input) {
      const path = normalizeWith(input.path, compiled.requestPaths);
      const kind = requestKindWith(compiled, methodOf(input.method), input, path.ok ? path.segments : []);
      return kind === 'page' ? 'page' : 'api';
    },
    decide: (input) => promiseOf(() => decideWith(compiled, input)),
    explain: (input) => explainWith(compiled, input),
  };
  return Object.freeze(guard);
}
