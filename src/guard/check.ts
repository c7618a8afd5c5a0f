/**
 * Checking one protecting rule against a signed-in session: the built-in requirements, then
 * `allow`, or `access.check` instead of both. Every hook failure (a throw, a rejected promise, a
 * hostile thenable) fails the rule and is reported to `onError`, never to the caller.
 *
 * @module
 */
import { sessionHasAllPermissions, sessionHasAnyRole, sessionHasPermission, sessionHasRole } from './access.ts';
import type { AccessHooks, CompiledRule, ProtectRule } from './rules.ts';

/**
 * Where a guard hook failed, as reported to `GuardOptions.onError`.
 *
 * @example
 * ```ts
 * createGuard({
 *   rules,
 *   onError: (error, { pattern, stage }) => logger.warn({ err: error, pattern, stage }, 'guard hook failed'),
 * });
 * ```
 */
export interface GuardErrorInfo {
  /** The pattern of the rule being evaluated. */
  readonly pattern: string;
  /**
   * What threw: reading the session (`session`), the built-in role/permission checks including
   * `access.getRole` / `access.getPermissions` (`requirements`), the rule's `allow`, or `access.check`.
   */
  readonly stage: 'session' | 'requirements' | 'allow' | 'check';
}

/**
 * How one rule check went: `error` is a hook that threw or rejected, which denies like `fail`.
 * @internal
 */
export type CheckOutcome = 'pass' | 'fail' | 'error';

/**
 * Checks rules; compiled once per guard.
 * @internal
 */
export interface RuleChecker<S extends object, C> {
  /** Checks `rule` for a signed-in `session`; a promise only when a hook returned one. */
  check(rule: CompiledRule<S, C>, session: S, context: C): CheckOutcome | Promise<CheckOutcome>;
  /** Reports an error thrown while reading the session, before any rule could be checked. */
  report(error: unknown, rule: CompiledRule<S, C>, stage: GuardErrorInfo['stage']): void;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The rule checker for validated `access` hooks and `onError`.
 * @internal
 */
export function createRuleChecker<S extends object, C>(
  access: AccessHooks<S, C> | undefined,
  onError: ((error: unknown, info: GuardErrorInfo) => void) | undefined,
): RuleChecker<S, C> {
  function report(error: unknown, rule: CompiledRule<S, C>, stage: GuardErrorInfo['stage']): void {
    if (onError === undefined) return;
    try {
      onError(error, Object.freeze({ pattern: rule.rule.pattern, stage }));
    } catch {
      // A failing logger must not turn a denial into a crash.
    }
  }

  function failed(error: unknown, rule: CompiledRule<S, C>, stage: GuardErrorInfo['stage']): 'error' {
    report(error, rule, stage);
    return 'error';
  }

  /** A hook's answer: only exactly `true` passes; a thenable is awaited, its failure reported. */
  function settle(
    value: unknown,
    rule: CompiledRule<S, C>,
    stage: GuardErrorInfo['stage'],
  ): CheckOutcome | Promise<CheckOutcome> {
    try {
      if (!isThenable(value)) return value === true ? 'pass' : 'fail';
      // Both steps can run user code (a `then` or `constructor` getter): hence the try.
      return Promise.resolve(value).then(
        (result): CheckOutcome => (result === true ? 'pass' : 'fail'),
        (error: unknown) => failed(error, rule, stage),
      );
    } catch (error) {
      return failed(error, rule, stage);
    }
  }

  function check(rule: CompiledRule<S, C>, session: S, context: C): CheckOutcome | Promise<CheckOutcome> {
    const spec = rule.rule as ProtectRule<S, C>;
    if (access?.check !== undefined) {
      let value: unknown;
      try {
        value = access.check(spec, session, context);
      } catch (error) {
        return failed(error, rule, 'check');
      }
      return settle(value, rule, 'check');
    }
    // `authenticated` needs nothing more: only signed-in sessions are checked at all.
    try {
      if (
        (spec.role !== undefined && !sessionHasRole(session, spec.role, access)) ||
        (spec.roles !== undefined && !sessionHasAnyRole(session, spec.roles, access)) ||
        (spec.permission !== undefined && !sessionHasPermission(session, spec.permission, access)) ||
        (spec.permissions !== undefined && !sessionHasAllPermissions(session, spec.permissions, access))
      ) {
        return 'fail';
      }
    } catch (error) {
      return failed(error, rule, 'requirements');
    }
    if (spec.allow === undefined) return 'pass';
    let value: unknown;
    try {
      value = spec.allow(session, context);
    } catch (error) {
      return failed(error, rule, 'allow');
    }
    return settle(value, rule, 'allow');
  }

  return { check, report };
}
