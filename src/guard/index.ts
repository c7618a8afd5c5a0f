/**
 * `sessionkit/guard`: framework-agnostic route protection.
 *
 * Rules are validated and compiled into a segment trie once by {@link createGuard}; each request
 * path is normalised (one decode, case-folded, dot-segments resolved) and matched in time
 * proportional to its segment count, with no regular expressions. Decisions are plain data:
 * allow, redirect (pages) or deny with a JSON body (APIs). Imports nothing from Astro.
 *
 * @example
 * ```ts
 * import { createGuard, requestInput } from 'sessionkit/guard';
 *
 * const guard = createGuard({ loginPath: '/login', rules: [{ pattern: '/admin/**', role: 'admin' }] });
 * const decision = await guard.decide({ ...requestInput(request), session });
 * ```
 *
 * @module
 */
export {
  getSessionPermissions,
  getSessionRole,
  isAuthenticated,
  MAX_ACCESS_ENTRIES,
  sessionHasAllPermissions,
  sessionHasAnyPermission,
  sessionHasAnyRole,
  sessionHasPermission,
  sessionHasRole,
} from './access.ts';
export type {
  GuardDecision,
  GuardDenyBody,
  GuardDenyCode,
} from './answers.ts';
export type { GuardErrorInfo } from './check.ts';
export type { GuardOptions } from './compile.ts';
export { type DecideInput, requestInput } from './decide.ts';
export type { GuardCheckTrace, GuardExplanation, GuardSourceTrace } from './explain.ts';
export { createGuard, type Guard } from './guard.ts';
export type { GuardMatch } from './match.ts';
export {
  createPathNormalizer,
  DEFAULT_MAX_PATH_LENGTH,
  type NormalizeFailure,
  type NormalizeOptions,
  type NormalizeResult,
  normalizePath,
  normalizeRoutePattern,
  type PathNormalizer,
} from './normalize.ts';
export {
  DEFAULT_RETURN_TO_PARAM,
  MAX_REDIRECT_LENGTH,
  type RedirectBase,
  readReturnTo,
  safeRedirect,
  withReturnTo,
} from './redirect.ts';
export type { AccessHooks, GuardRule, GuardSession, ProtectRule, PublicRule } from './rules.ts';
