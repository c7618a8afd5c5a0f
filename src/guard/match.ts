/**
 * `guard.match()` and `guard.matchRoute()`: which rules apply to a path or route, without a
 * session. Selected exactly as `decide()` selects (select.ts).
 *
 * @module
 */
import type { CompiledGuard } from './compile.ts';
import type { NormalizeFailure, NormalizeResult } from './normalize.ts';
import type { CompiledRule, GuardRule, GuardSession, ProtectRule, PublicRule } from './rules.ts';
import type { Selection } from './select.ts';

/**
 * The rules that apply to one path, see `Guard.match`.
 *
 * @example
 * ```ts
 * const match = guard.match('/admin/users');
 * if (match.ok) console.log(match.required.map((rule) => rule.pattern));
 * ```
 */
export type GuardMatch<S extends object = GuardSession, C = unknown> =
  | {
      readonly ok: true;
      /** The normalised path (or route pattern). */
      readonly path: string;
      /** The protecting rules the request must pass, in rule order (empty: nothing is required). */
      readonly required: readonly ProtectRule<S, C>[];
      /** Every rule whose pattern and methods match, public ones included, in rule order. */
      readonly matched: readonly GuardRule<S, C>[];
      /** The public exception that lifted protection, or that matched where nothing protects. */
      readonly exception: PublicRule | undefined;
    }
  | { readonly ok: false; readonly reason: NormalizeFailure };

/**
 * The rules that apply to a normalised path (both its readings) or route, for `method` (upper case).
 * @internal
 */
export function matchWith<S extends object, C>(
  guard: CompiledGuard<S, C>,
  normalized: NormalizeResult,
  method: string,
): GuardMatch<S, C> {
  if (!normalized.ok) return normalized;
  const { selector } = guard;
  const ruleAt = (index: number): GuardRule<S, C> => (selector.compiled[index] as CompiledRule<S, C>).rule;
  const selection: Selection = { required: [], exception: -1 };
  const matched = new Set<number>();
  const readings = [normalized.segments];
  if (normalized.unsplitSegments !== undefined) readings.push(normalized.unsplitSegments);
  for (const segments of readings) {
    for (const index of selector.applicable(segments, method, [])) matched.add(index);
    selector.addReading(selection, segments, method);
  }
  const required = selection.required;
  return Object.freeze({
    ok: true,
    path: normalized.path,
    required: Object.freeze(required.map((index) => ruleAt(index) as ProtectRule<S, C>)),
    matched: Object.freeze([...matched].sort((a, b) => a - b).map(ruleAt)),
    exception:
      required.length > 0 || selection.exception === -1 ? undefined : (ruleAt(selection.exception) as PublicRule),
  });
}
