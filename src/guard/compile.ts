/**
 * `createGuard()`'s first phase: validates every option and rule, compiles the patterns, and
 * checks that the login page and every `redirectTo` are reachable. Everything the per-request
 * code reads is built here, once.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { assertOptionsObject, describeValue } from '../core/options.ts';
import { type Destinations, joinPath, PATH_ORIGIN } from './answers.ts';
import { createRuleChecker, type GuardErrorInfo, type RuleChecker } from './check.ts';
import {
  type CompiledNormalizeOptions,
  compileNormalizeOptions,
  type NormalizeResult,
  normalizeRouteWith,
  normalizeWith,
} from './normalize.ts';
import { DEFAULT_RETURN_TO_PARAM, safeRedirect } from './redirect.ts';
import { compileApiPrefixes } from './request-kind.ts';
import { type AccessHooks, type CompiledRule, compileRule, type GuardRule, type GuardSession } from './rules.ts';
import { createRuleSelector, type RuleSelector, type Selection } from './select.ts';

/**
 * Options of `createGuard()`.
 *
 * @example
 * ```ts
 * const options: GuardOptions<MySession, APIContext> = {
 *   loginPath: '/signin',
 *   apiPrefixes: ['/api/', '/rpc/'],
 *   rules: [{ pattern: '/admin/**', role: 'admin' }],
 * };
 * ```
 */
export interface GuardOptions<S extends object = GuardSession, C = unknown> {
  /** The rules (see {@link GuardRule}); order matters only for which failing rule is reported. */
  readonly rules: readonly GuardRule<S, C>[];
  /**
   * The sign-in page, relative to `base`, where page requests without a session are redirected.
   * No protecting rule may cover it. Default `/login`.
   */
  readonly loginPath?: string;
  /** Paths under these prefixes get JSON 401/403 answers, never redirects. Default `['/api/']`. */
  readonly apiPrefixes?: readonly string[];
  /** The app's base path (Astro `base`): removed from request paths; rules are written without it. */
  readonly base?: string;
  /** Match paths case-sensitively. Default `false` (see `normalizePath`). */
  readonly caseSensitive?: boolean;
  /** Longest request path accepted, in UTF-16 code units; longer paths are denied. Default 16384. */
  readonly maxPathLength?: number;
  /** Query parameter carrying the return-to location on the login redirect. Default `returnTo`. */
  readonly returnToParam?: string;
  /** Hooks changing how roles and permissions are read, or replacing the checks. */
  readonly access?: AccessHooks<S, C>;
  /**
   * Called when a hook throws or rejects (the request is then denied). Receives the error and the
   * rule's pattern, never the session. Errors thrown by `onError` itself are ignored.
   */
  readonly onError?: (error: unknown, info: GuardErrorInfo) => void;
}

/**
 * A validated, compiled guard: what `decide()`, `explain()`, `match()` and `classify()` read.
 * @internal
 */
export interface CompiledGuard<S extends object, C> {
  /** The validated rules, frozen copies in the order given. */
  readonly rules: readonly GuardRule<S, C>[];
  readonly selector: RuleSelector<S, C>;
  readonly checker: RuleChecker<S, C>;
  readonly destinations: Destinations;
  /** How request paths are normalised (base, case, length). */
  readonly requestPaths: CompiledNormalizeOptions;
  /** API prefixes as normalised segments. */
  readonly apiPrefixes: readonly (readonly string[])[];
  /** A route pattern's reading, remembered (frozen) per pattern. */
  normalizeRoute(routePattern: unknown): NormalizeResult;
}

/**
 * How error messages name the guard's options and rules, so that they name what the user wrote:
 * `createGuard(): rules[0]` by default, `sessionkit().protect[0]` or `src/sessionkit.ts protect[0]`
 * from the Astro integration.
 * @internal
 */
export interface GuardNames {
  /** Starts messages about the options, e.g. `createGuard()`. */
  readonly where: string;
  /** Starts messages about rule `index`, e.g. `createGuard(): rules[0]`. */
  readonly rule: (index: number) => string;
  /** Names rule `index` inside a message about something else, e.g. `rules[0]`. */
  readonly ruleRef: (index: number) => string;
}

/** The names `createGuard()` uses. @internal */
export function guardNames(where: string, list = 'rules'): GuardNames {
  return { where, rule: (index) => `${where}: ${list}[${index}]`, ruleRef: (index) => `${list}[${index}]` };
}

const OPTION_KEYS = [
  'rules',
  'loginPath',
  'apiPrefixes',
  'base',
  'caseSensitive',
  'maxPathLength',
  'returnToParam',
  'access',
  'onError',
] as const;
const ACCESS_KEYS = ['getRole', 'getPermissions', 'check'] as const;
const MAX_RULES = 10_000;
/** How many distinct route patterns a guard remembers normalised. */
const ROUTE_CACHE_SIZE = 512;

/** The path part of a location (before `?` or `#`). */
function pathPart(location: string): string {
  let end = location.length;
  const query = location.indexOf('?');
  const hash = location.indexOf('#');
  if (query !== -1) end = query;
  if (hash !== -1 && hash < end) end = hash;
  return location.slice(0, end);
}

/**
 * Validates `options` and compiles them.
 *
 * @throws `ERR_CONFIG_INVALID` on any mistake (see `createGuard()`).
 * @internal
 */
export function compileGuard<S extends object, C>(options: GuardOptions<S, C>, names: GuardNames): CompiledGuard<S, C> {
  const { where } = names;
  if (options === undefined) throw configError(`${where}: options are required (at least { rules }).`);
  assertOptionsObject(options, OPTION_KEYS, where);
  const caseSensitive = options.caseSensitive ?? false;
  const requestPaths = compileNormalizeOptions(
    { base: options.base, caseSensitive, maxLength: options.maxPathLength },
    where,
  );
  const configPaths = compileNormalizeOptions({ caseSensitive }, where);

  const access = options.access;
  if (access !== undefined) {
    assertOptionsObject(access, ACCESS_KEYS, `${where}: access`);
    for (const key of ACCESS_KEYS) {
      if (access[key] !== undefined && typeof access[key] !== 'function') {
        throw configError(`${where}: access.${key} must be a function, got ${describeValue(access[key])}.`);
      }
    }
  }
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== 'function') {
    throw configError(`${where}: onError must be a function, got ${describeValue(onError)}.`);
  }
  const returnToParam = options.returnToParam ?? DEFAULT_RETURN_TO_PARAM;
  if (typeof returnToParam !== 'string' || returnToParam.length === 0 || returnToParam.length > 64) {
    throw configError(`${where}: returnToParam must be a non-empty string, got ${describeValue(returnToParam)}.`);
  }

  // Locations sent to the browser carry the base, spelled as the user wrote it.
  let basePrefix = options.base ?? '';
  while (basePrefix.endsWith('/')) basePrefix = basePrefix.slice(0, -1);

  const checkLocation = (location: string, label: string): void => {
    if (safeRedirect(location, PATH_ORIGIN, null) !== location || !location.startsWith('/')) {
      throw configError(
        `${label}: "${location}" is not a canonical same-origin path.`,
        'Use an absolute path such as "/login", without "//", "\\", ".." or encoded slashes.',
      );
    }
  };

  const input = options.rules;
  if (!Array.isArray(input) || input.length > MAX_RULES) {
    throw configError(`${where}: rules must be an array of at most ${MAX_RULES} rules, got ${describeValue(input)}.`);
  }
  const compiled: CompiledRule<S, C>[] = input.map((rule, index) =>
    compileRule<S, C>(rule, index, names.rule(index), caseSensitive, checkLocation),
  );
  const selector = createRuleSelector(compiled, where, names.ruleRef);
  const apiPrefixes = compileApiPrefixes(options.apiPrefixes, where, configPaths);

  // The login page, and every redirectTo, must be reachable without the access they would grant.
  const loginPath = options.loginPath ?? '/login';
  if (typeof loginPath !== 'string') {
    throw configError(`${where}: loginPath must be a string, got ${describeValue(loginPath)}.`);
  }
  checkLocation(loginPath, `${where}: loginPath`);
  const assertReachable = (location: string, label: string, methods: readonly string[]): void => {
    const normalized = normalizeWith(pathPart(location), configPaths);
    if (!normalized.ok) throw configError(`${label}: "${location}" is not a valid path (${normalized.reason}).`);
    for (const method of methods) {
      const selection: Selection = { required: [], exception: -1 };
      selector.addReading(selection, normalized.segments, method);
      if (selection.required.length > 0) {
        const blocking = selection.required.map(
          (index) => `${names.ruleRef(index)} ("${(compiled[index] as CompiledRule<S, C>).rule.pattern}")`,
        );
        throw configError(
          `${label}: "${location}" is protected for ${method} by ${blocking.join(', ')}; it must be reachable.`,
          `Narrow the rule, or add { pattern: '${normalized.path}', public: true } (an exception narrower than the rule).`,
        );
      }
    }
  };
  assertReachable(loginPath, `${where}: loginPath`, ['GET', 'HEAD', 'POST']);
  for (const rule of compiled) {
    const redirectTo = (rule.rule as { redirectTo?: string }).redirectTo;
    if (redirectTo !== undefined) assertReachable(redirectTo, `${names.rule(rule.index)}.redirectTo`, ['GET']);
  }

  // Route patterns come from the app's route table, a small fixed set: each is normalised once.
  // Bounded, so a caller passing arbitrary patterns cannot grow it; frozen, because explain()
  // hands these readings to callers.
  const routes = new Map<string, NormalizeResult>();
  const normalizeRoute = (routePattern: unknown): NormalizeResult => {
    let route = typeof routePattern === 'string' ? routes.get(routePattern) : undefined;
    if (route === undefined) {
      route = normalizeRouteWith(routePattern, configPaths);
      if (route.ok) Object.freeze(route.segments);
      Object.freeze(route);
      if (typeof routePattern === 'string' && routes.size < ROUTE_CACHE_SIZE) routes.set(routePattern, route);
    }
    return route;
  };

  return Object.freeze({
    rules: Object.freeze(compiled.map((rule) => rule.rule)),
    selector,
    checker: createRuleChecker<S, C>(access, onError),
    destinations: Object.freeze({
      loginLocation: joinPath(basePrefix, loginPath),
      basePrefix,
      returnToParam,
    }),
    requestPaths,
    apiPrefixes,
    normalizeRoute,
  });
}
