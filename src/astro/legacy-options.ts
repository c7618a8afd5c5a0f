/**
 * astro-sessionkit 0.1.33's integration options that sessionkit keeps with their meaning:
 *
 * - `sessionTtl` (seconds) is the idle timeout (`expiry.idleTimeoutSeconds`), bounded by the
 *   absolute timeout; in bridge mode, the `ttl` of every write into Astro's session.
 * - `touchOnRequest: true` renews the session on every request (`expiry.renewAfterFraction: 0`);
 *   `false`, 0.1.33's default when `sessionTtl` is set, keeps the expiry fixed from sign-in
 *   (`expiry.rolling: false`). In bridge mode, `true` rewrites `__session__` on every request.
 * - `debug: true` logs through `console` (sessionkit's `logger`), with every audit event.
 * - `globalProtect` and `exclude` become rules: `{ pattern: '/**' }` for any signed-in session, and
 *   public exceptions. 0.1.33 applied `exclude` only where no `protect` rule matched, so an
 *   exclusion that lies inside a protecting rule never lifted it there, and does not here: it is
 *   left out (with a warning at config time), where a public exception would have lifted the rule.
 *
 * Plain data in, plain data out: runs at config time (validation, warnings) and in the server
 * bundle (the rules, once every rule, `src/sessionkit.ts`'s included, is known).
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { defaultExpiry, type ExpiryOptions } from '../core/expiry.ts';
import { type GuardRule, type ProtectRule, parsePattern, patternCovers } from '../guard/rules.ts';

/** The 0.1.33 options, as they are given to `sessionkit()`. */
export interface LegacyOptions {
  /** astro-sessionkit's session lifetime in seconds. */
  sessionTtl?: number;
  /** astro-sessionkit's "rewrite the session on each request". */
  touchOnRequest?: boolean;
  /** astro-sessionkit's debug logging. */
  debug?: boolean;
  /** astro-sessionkit's "every route needs a session". */
  globalProtect?: boolean;
  /** astro-sessionkit's exceptions to `globalProtect`. */
  exclude?: string[];
}

/** The keys of {@link LegacyOptions}. */
export const legacyOptionKeys = ['sessionTtl', 'touchOnRequest', 'debug', 'globalProtect', 'exclude'] as const;

const where = 'sessionkit()';

/**
 * Checks the types of the 0.1.33 options.
 *
 * @throws `ERR_CONFIG_INVALID` naming the option
 */
export function checkLegacyOptions(options: LegacyOptions): void {
  const { sessionTtl, touchOnRequest, debug, globalProtect, exclude } = options;
  for (const [key, value] of [
    ['touchOnRequest', touchOnRequest],
    ['debug', debug],
    ['globalProtect', globalProtect],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') throw configError(`${where}.${key} must be true or false.`);
  }
  if (exclude !== undefined && (!Array.isArray(exclude) || exclude.some((entry) => typeof entry !== 'string'))) {
    throw configError(`${where}.exclude must be an array of path patterns such as "/about" or "/public/**".`);
  }
  if (sessionTtl !== undefined && (typeof sessionTtl !== 'number' || !Number.isInteger(sessionTtl) || sessionTtl < 1)) {
    throw configError(`${where}.sessionTtl must be a whole number of seconds (1 or more).`);
  }
}

/**
 * Folds `sessionTtl` / `touchOnRequest` into `expiry` (sessions sessionkit keeps; not in bridge
 * mode, where Astro's session keeps them).
 *
 * @throws `ERR_CONFIG_INVALID` naming the option and what to write instead
 */
export function legacyExpiry(options: LegacyOptions & { expiry?: ExpiryOptions }): ExpiryOptions | undefined {
  checkLegacyOptions(options);
  const { sessionTtl, touchOnRequest } = options;
  const expiry: ExpiryOptions = { ...options.expiry };
  if (sessionTtl !== undefined) {
    if (expiry.idleTimeoutSeconds !== undefined) {
      throw configError(
        `${where}: sessionTtl and expiry.idleTimeoutSeconds say the same thing.`,
        'Keep one: sessionTtl is the idle timeout.',
      );
    }
    const absolute = expiry.absoluteTimeoutSeconds ?? defaultExpiry.absoluteTimeoutSeconds;
    if (sessionTtl > absolute) {
      throw configError(
        `${where}.sessionTtl (${sessionTtl} s) is longer than the absolute timeout (${absolute} s${options.expiry?.absoluteTimeoutSeconds === undefined ? ', the default' : ''}), which no session outlives.`,
        `Also set expiry: { absoluteTimeoutSeconds: ${sessionTtl} } (or more), or a shorter sessionTtl.`,
      );
    }
    expiry.idleTimeoutSeconds = sessionTtl;
  }
  // astro-sessionkit rewrote the session on each request only with touchOnRequest: true.
  const touch = touchOnRequest ?? (sessionTtl === undefined ? undefined : false);
  if (touch === true) {
    if (expiry.renewAfterFraction !== undefined || expiry.rolling === false) {
      throw configError(
        `${where}: touchOnRequest: true renews on every request; it contradicts expiry.renewAfterFraction / expiry.rolling.`,
        'Keep one of them.',
      );
    }
    expiry.renewAfterFraction = 0;
  } else if (touch === false) {
    if (expiry.rolling !== undefined) {
      throw configError(`${where}: touchOnRequest and expiry.rolling say the same thing.`, 'Keep one of them.');
    }
    expiry.rolling = false;
  }
  return Object.keys(expiry).length === 0 ? undefined : expiry;
}

/** The requirement "any signed-in session" in the guard's rule language (the rule `globalProtect` adds). */
export const anySignedInSession = { authenticated: true } as const;

/** An `exclude` entry left out because a protecting rule covers it (see {@link globalProtectRules}). */
export interface ShadowedExclusion {
  /** Its index in `exclude`. */
  readonly index: number;
  readonly pattern: string;
  /** The pattern of the protecting rule that covers it. */
  readonly coveredBy: string;
}

/** The rules `globalProtect` / `exclude` add, and the exclusions left out. */
export interface GlobalProtectRules<S extends object, C> {
  readonly rules: GuardRule<S, C>[];
  readonly shadowed: ShadowedExclusion[];
}

/**
 * The rules for `globalProtect` and `exclude`, given every other rule of the app: a rule that any
 * signed-in session passes on every path, the login page as a public exception (0.1.33 excluded
 * it by itself), and each exclusion as a public exception unless a protecting rule covering every
 * method covers all of its paths. Nothing without `globalProtect: true` (0.1.33 ignored `exclude`
 * then too).
 *
 * @param signedIn - the requirement "any signed-in session" in the guard's rule language
 */
export function globalProtectRules<S extends object, C>(
  options: LegacyOptions & { loginPath: string; caseSensitive?: boolean },
  rules: readonly GuardRule<S, C>[],
  signedIn: Omit<ProtectRule<S, C>, 'pattern'>,
): GlobalProtectRules<S, C> {
  if (options.globalProtect !== true) return { rules: [], shadowed: [] };
  const caseSensitive = options.caseSensitive === true;
  const protecting = rules
    .filter((rule) => rule.public !== true && rule.methods === undefined)
    .map((rule) => ({ pattern: rule.pattern, parsed: parsePattern(rule.pattern, caseSensitive, `${where} protect`) }));
  const loginPage = options.loginPath.split(/[?#]/)[0] as string;
  const added: GuardRule<S, C>[] = [
    { pattern: '/**', ...signedIn } as GuardRule<S, C>,
    { pattern: loginPage, public: true },
  ];
  const shadowed: ShadowedExclusion[] = [];
  for (const [index, pattern] of (options.exclude ?? []).entries()) {
    const parsed = parsePattern(pattern, caseSensitive, `${where}.exclude[${index}]`);
    const cover = protecting.find((rule) => patternCovers(rule.parsed, parsed));
    if (cover === undefined) added.push({ pattern, public: true });
    else shadowed.push({ index, pattern, coveredBy: cover.pattern });
  }
  return { rules: added, shadowed };
}

/** The config-time warning for an exclusion left out, with what to write to make the path public. */
export function shadowedWarning(entry: ShadowedExclusion): string {
  return (
    `exclude[${entry.index}] ("${entry.pattern}") lies inside the protect rule "${entry.coveredBy}", which astro-sessionkit ` +
    `checked first, so the exclusion never applied there; it still does not: "${entry.pattern}" stays protected by that rule. ` +
    `Remove it from exclude, or, to make it public, write { pattern: '${entry.pattern}', public: true } in protect.`
  );
}
