/**
 * What sessionkit's framework adapters need from a guard and users do not: the decision without a
 * promise when no hook waits, and the full request classification. Not exported from
 * `sessionkit/guard`; adapters import this module directly.
 *
 * @module
 */
import type { GuardDecision } from './answers.ts';
import type { CompiledGuard } from './compile.ts';
import { type DecideInput, decideWith, methodOf, requestKindWith } from './decide.ts';
import { analyzeWith } from './normalize.ts';
import type { RequestKind } from './request-kind.ts';

/**
 * The key under which a guard object carries its compiled form.
 * @internal
 */
export const COMPILED_GUARD: unique symbol = Symbol('sessionkit.guard.compiled');

/** Any guard from `createGuard()`; `S` and `C` are read from its `decide`. */
interface GuardHandle<S extends object, C> {
  decide(input: DecideInput<S, C>): Promise<GuardDecision<S, C>>;
}

function compiledOf<S extends object, C>(guard: GuardHandle<S, C>): CompiledGuard<S, C> {
  return (guard as unknown as { readonly [COMPILED_GUARD]: CompiledGuard<S, C> })[COMPILED_GUARD];
}

/**
 * `guard.decide(input)` without the promise when every hook answered synchronously: a framework
 * pipeline's hot path stays free of promises. Never throws.
 * @internal
 *
 * @example
 * ```ts
 * const decision = decideImmediately(guard, input);
 * return decision instanceof Promise ? decision.then(respond) : respond(decision);
 * ```
 */
export function decideImmediately<S extends object, C>(
  guard: GuardHandle<S, C>,
  input: DecideInput<S, C>,
): GuardDecision<S, C> | Promise<GuardDecision<S, C>> {
  return decideWith(compiledOf(guard), input);
}

/**
 * The request's kind (`page`, `form` or `api`), by the guard's API prefixes, base and case
 * rules. `guard.classify()` folds `form` into `api` (the guard never redirects a form); an
 * adapter choosing between an HTML page and JSON for its own refusals (CSRF) reads `form` as HTML.
 * @internal
 *
 * @example
 * ```ts
 * const json = requestKindOf(guard, { path: url.pathname, method: request.method, accept, contentType }) === 'api';
 * ```
 */
export function requestKindOf<S extends object, C>(
  guard: GuardHandle<S, C>,
  input: Pick<DecideInput<S, C>, 'path' | 'method' | 'accept' | 'contentType'>,
): RequestKind {
  const compiled = compiledOf(guard);
  const path = analyzeWith(input.path, compiled.requestPaths);
  return requestKindWith(compiled, methodOf(input.method), input, path.ok ? path.segments : []);
}
