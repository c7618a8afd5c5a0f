/**
 * `guard.explain()`: the decision with its reasons, for a dev toolbar, logs and tests. The slow
 * path: it keeps every reading, every matching rule and every check, and always answers with a
 * promise. It decides with the same compiled guard, the same rule selection (select.ts), the same
 * checks (check.ts) and the same answers (answers.ts) as `decide()`; a property test holds the two
 * to the same decision.
 *
 * @module
 */
import { isAuthenticated } from './access.ts';
import { ALLOW_UNPROTECTED, DENY_BAD_PATH, forbidden, type GuardDecision, unauthenticated } from './answers.ts';
import type { CompiledGuard } from './compile.ts';
import { type DecideInput, methodOf, requestKindWith } from './decide.ts';
import { type NormalizeResult, normalizeWith } from './normalize.ts';
import type { CompiledRule, GuardRule, GuardSession, ProtectRule, PublicRule } from './rules.ts';
import type { Selection } from './select.ts';

/**
 * One rule evaluation, in {@link GuardExplanation.checks}.
 *
 * @example
 * ```ts
 * const { checks } = await guard.explain(input);
 * for (const { rule, outcome } of checks) console.log(rule.pattern, outcome);
 * ```
 */
export interface GuardCheckTrace<S extends object = GuardSession, C = unknown> {
  readonly rule: ProtectRule<S, C>;
  /** `error`: a hook threw or rejected (reported to `onError`), which denies like `fail`. */
  readonly outcome: 'pass' | 'fail' | 'error';
}

/**
 * What one reading of the request contributed, in {@link GuardExplanation.sources}.
 *
 * @example
 * ```ts
 * const { sources } = await guard.explain({ ...input, routePattern: '/admin/[id]' });
 * for (const source of sources) console.log(source.source, source.matched.length, source.ignoredExceptions);
 * ```
 */
export interface GuardSourceTrace<S extends object = GuardSession, C = unknown> {
  /**
   * `path`: the normalised URL path; `unsplit-path`: the same path as a router that does not split
   * on encoded slashes sees it (see `normalizePath`); `route`: the route pattern.
   */
  readonly source: 'path' | 'unsplit-path' | 'route';
  /** The normalised path or route, or why it could not be normalised. */
  readonly normalized: NormalizeResult;
  /** Every rule whose pattern and methods matched this reading, in rule order. */
  readonly matched: readonly GuardRule<S, C>[];
  /** The public exception that lifted protection for this reading, if any. */
  readonly exception: PublicRule | undefined;
  /** Public exceptions that matched but were not narrower than every matching protecting rule. */
  readonly ignoredExceptions: readonly PublicRule[];
}

/**
 * Why the guard decided what it did (for a dev toolbar or logs; contains no session data).
 *
 * @example
 * ```ts
 * const explanation = await guard.explain(input);
 * toolbar.show({ decision: explanation.decision.action, kind: explanation.kind, checks: explanation.checks });
 * ```
 */
export interface GuardExplanation<S extends object = GuardSession, C = unknown> {
  readonly decision: GuardDecision<S, C>;
  readonly method: string;
  /** `api` requests get JSON 401/403; `page` requests get redirects. */
  readonly kind: 'page' | 'api';
  /** Whether the session is signed in; read only when a protecting rule applies (`false` otherwise). */
  readonly authenticated: boolean;
  readonly sources: readonly GuardSourceTrace<S, C>[];
  /** Rule evaluations in order; evaluation stops at the first failure. */
  readonly checks: readonly GuardCheckTrace<S, C>[];
}

const NOTHING: readonly never[] = Object.freeze([]);

/**
 * Explains a request. Never rejects (a hook that fails denies, as in `decide()`).
 * @internal
 */
export async function explainWith<S extends object, C>(
  guard: CompiledGuard<S, C>,
  input: DecideInput<S, C>,
): Promise<GuardExplanation<S, C>> {
  const valid = typeof input === 'object' && input !== null;
  const method = methodOf(valid ? input.method : undefined);
  const sources: GuardSourceTrace<S, C>[] = [];
  const checks: GuardCheckTrace<S, C>[] = [];
  let kind: GuardExplanation['kind'] = 'page';
  let authenticated = false;
  const explained = (decision: GuardDecision<S, C>): GuardExplanation<S, C> =>
    Object.freeze({
      decision,
      method,
      kind,
      authenticated,
      sources: Object.freeze(sources),
      checks: Object.freeze(checks),
    });
  if (!valid) return explained(DENY_BAD_PATH as GuardDecision<S, C>);

  const { selector } = guard;
  const compiled = selector.compiled;
  const ruleAt = (index: number): GuardRule<S, C> => (compiled[index] as CompiledRule<S, C>).rule;
  const selection: Selection = { required: [], exception: -1 };
  const read = (source: GuardSourceTrace['source'], normalized: NormalizeResult, segments?: readonly string[]) => {
    if (!normalized.ok || segments === undefined) {
      sources.push(
        Object.freeze({ source, normalized, matched: NOTHING, exception: undefined, ignoredExceptions: NOTHING }),
      );
      return;
    }
    const matched = selector.applicable(segments, method, []);
    const exception = selector.addReading(selection, segments, method);
    const protecting = matched.some((index) => !(compiled[index] as CompiledRule<S, C>).isPublic);
    const ignored = protecting
      ? matched.filter((index) => (compiled[index] as CompiledRule<S, C>).isPublic && !selector.lifts(index, matched))
      : [];
    sources.push(
      Object.freeze({
        source,
        normalized,
        matched: Object.freeze(matched.map(ruleAt)),
        exception: exception === -1 ? undefined : (ruleAt(exception) as PublicRule),
        ignoredExceptions: Object.freeze(ignored.map((index) => ruleAt(index) as PublicRule)),
      }),
    );
  };

  const path = normalizeWith(input.path, guard.requestPaths);
  read('path', path, path.ok ? path.segments : undefined);
  if (path.ok && path.unsplitSegments !== undefined) read('unsplit-path', path, path.unsplitSegments);
  let routeOk = true;
  if (input.routePattern !== undefined) {
    const route = guard.normalizeRoute(input.routePattern);
    routeOk = route.ok;
    read('route', route, route.ok ? route.segments : undefined);
  }
  if (!path.ok || !routeOk) return explained(DENY_BAD_PATH as GuardDecision<S, C>);

  const requestKind = requestKindWith(guard, method, input, path.segments);
  kind = requestKind === 'page' ? 'page' : 'api';
  const required = selection.required;
  if (required.length === 0) {
    if (selection.exception === -1) return explained(ALLOW_UNPROTECTED as GuardDecision<S, C>);
    return explained({ action: 'allow', rule: ruleAt(selection.exception) });
  }

  const first = compiled[required[0] as number] as CompiledRule<S, C>;
  try {
    authenticated = isAuthenticated(input.session);
  } catch (error) {
    guard.checker.report(error, first, 'session');
  }
  if (!authenticated) {
    const rule = first.rule as ProtectRule<S, C>;
    return explained(unauthenticated(guard.destinations, rule, requestKind, input.path, input.search));
  }
  for (const index of required) {
    const rule = compiled[index] as CompiledRule<S, C>;
    const outcome = await guard.checker.check(rule, input.session as S, input.context as C);
    checks.push({ rule: rule.rule as ProtectRule<S, C>, outcome });
    if (outcome !== 'pass')
      return explained(forbidden(guard.destinations, rule.rule as ProtectRule<S, C>, requestKind));
  }
  return explained({ action: 'allow', rule: first.rule });
}
