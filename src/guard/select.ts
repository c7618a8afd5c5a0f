/**
 * Which rules apply to a request: the compiled trie finds the rules whose pattern matches a
 * reading of the path (or route), the method filters them, and the precedence model (see
 * docs/guard.md) picks the protecting rules to check or the public exception that lifts them.
 * `decide()`, `explain()` and `match()` all select through this module, so they cannot disagree
 * on which rules apply.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { compileMatcher, type PatternMatcher } from './matcher.ts';
import { type CompiledRule, isStrictlyNarrower, patternCovers } from './rules.ts';

/**
 * The rules a request must pass, gathered over its readings (path, unsplit path, route).
 * @internal
 */
export interface Selection {
  /** Indices of the protecting rules that apply, ascending, without duplicates. */
  readonly required: number[];
  /** The public rule of the first reading that had one (see {@link RuleSelector.addReading}), or -1. */
  exception: number;
}

/**
 * The compiled rules and how to select among them.
 * @internal
 */
export interface RuleSelector<S extends object, C> {
  readonly compiled: readonly CompiledRule<S, C>[];
  /**
   * Fills the empty array `out` with the rules whose pattern matches `segments` and whose
   * methods include `method`, in rule order. Returns `out`.
   */
  applicable(segments: readonly string[], method: string, out: number[]): number[];
  /**
   * True when the public rule `candidate` lifts protection for `applicable`: it is strictly
   * narrower than every protecting rule in it.
   */
  lifts(candidate: number, applicable: readonly number[]): boolean;
  /**
   * Adds one reading to `selection`: when a public rule lifts every protecting rule that applies
   * (or applies where nothing protects) it is this reading's exception; otherwise the protecting
   * rules that apply join `selection.required`. Returns this reading's exception, or -1.
   */
  addReading(selection: Selection, segments: readonly string[], method: string): number;
}

/**
 * Compiles the trie and, for each public rule, the protecting rules it may lift.
 *
 * @throws `ERR_CONFIG_INVALID` when a public rule and a protecting rule cover exactly the same
 *   paths and methods (a contradiction).
 * @internal
 */
export function createRuleSelector<S extends object, C>(
  compiled: readonly CompiledRule<S, C>[],
  where: string,
  ruleRef: (index: number) => string,
): RuleSelector<S, C> {
  const matcher: PatternMatcher = compileMatcher(compiled.map((rule) => rule.parsed));

  // For each public rule, the protecting rules it is strictly narrower than (the ones it may lift).
  const liftable: (ReadonlySet<number> | undefined)[] = compiled.map((rule) => {
    if (!rule.isPublic) return undefined;
    const set = new Set<number>();
    for (const other of compiled) {
      if (other.isPublic) continue;
      if (isStrictlyNarrower(rule, other)) set.add(other.index);
      else if (
        patternCovers(other.parsed, rule.parsed) &&
        patternCovers(rule.parsed, other.parsed) &&
        sameMethods(other, rule)
      ) {
        throw configError(
          `${where}: ${ruleRef(rule.index)} ("${rule.rule.pattern}") is public but ${ruleRef(other.index)} protects the same paths and methods.`,
          'Remove one of them, or narrow the public exception.',
        );
      }
    }
    return set;
  });

  function applicable(segments: readonly string[], method: string, out: number[]): number[] {
    matcher.collect(segments, out);
    let kept = 0;
    for (let position = 0; position < out.length; position++) {
      const index = out[position] as number;
      const methods = (compiled[index] as CompiledRule<S, C>).methods;
      if (methods === undefined || methods.has(method)) out[kept++] = index;
    }
    if (kept !== out.length) out.length = kept;
    if (kept > 1) out.sort(ascending);
    return out;
  }

  function lifts(candidate: number, rules: readonly number[]): boolean {
    const lifted = liftable[candidate];
    if (lifted === undefined) return false;
    for (const index of rules) {
      if (!(compiled[index] as CompiledRule<S, C>).isPublic && !lifted.has(index)) return false;
    }
    return true;
  }

  // Reused by addReading: selection is synchronous, so calls cannot interleave.
  const scratch: number[] = [];

  function addReading(selection: Selection, segments: readonly string[], method: string): number {
    if (scratch.length !== 0) scratch.length = 0;
    applicable(segments, method, scratch);
    if (scratch.length === 0) return -1;
    let firstPublic = -1;
    let protecting = 0;
    for (const index of scratch) {
      if ((compiled[index] as CompiledRule<S, C>).isPublic) {
        if (firstPublic === -1) firstPublic = index;
      } else protecting++;
    }
    let exception = -1;
    if (protecting === 0) exception = firstPublic;
    else if (firstPublic !== -1) {
      for (const candidate of scratch) {
        if (lifts(candidate, scratch)) {
          exception = candidate;
          break;
        }
      }
    }
    if (exception !== -1) {
      if (selection.exception === -1) selection.exception = exception;
      return exception;
    }
    const required = selection.required;
    const before = required.length;
    for (const index of scratch) if (!(compiled[index] as CompiledRule<S, C>).isPublic) required.push(index);
    if (before > 0) {
      // A second reading added rules: keep `required` ascending and without duplicates.
      required.sort(ascending);
      let kept = 0;
      for (const index of required) if (kept === 0 || required[kept - 1] !== index) required[kept++] = index;
      required.length = kept;
    }
    return -1;
  }

  return { compiled, applicable, lifts, addReading };
}

function ascending(a: number, b: number): number {
  return a - b;
}

function sameMethods<S extends object, C>(a: CompiledRule<S, C>, b: CompiledRule<S, C>): boolean {
  if (a.methods === undefined || b.methods === undefined) return a.methods === b.methods;
  if (a.methods.size !== b.methods.size) return false;
  for (const method of a.methods) if (!b.methods.has(method)) return false;
  return true;
}
