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
import { configError } from '../core/errors.ts';
import { mapMaybe } from '../core/maybe-promise.ts';
import { assertOptionsObject, describeValue } from '../core/options.ts';
import {
  isAuthenticated,
  sessionHasAllPermissions,
  sessionHasAnyRole,
  sessionHasPermission,
  sessionHasRole,
} from './access.ts';
import { compileMatcher } from './matcher.ts';
import {
  analyzeWith,
  compileNormalizeOptions,
  type NormalizeFailure,
  type NormalizeResult,
  normalizeRouteWith,
  normalizeWith,
  type PathAnalysis,
} from './normalize.ts';
import { DEFAULT_RETURN_TO_PARAM, safeRedirect, withReturnTo } from './redirect.ts';
import {
  type AccessHooks,
  type CompiledRule,
  compileRule,
  type GuardRule,
  type GuardSession,
  isStrictlyNarrower,
  type MaybePromise,
  type ProtectRule,
  type PublicRule,
  patternCovers,
} from './rules.ts';

/**
 * Where a guard hook failed, as reported to {@link GuardOptions.onError}.
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
 * Options of {@link createGuard}.
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
 * What {@link Guard.decide} needs to know about a request.
 *
 * @example
 * ```ts
 * const url = new URL(request.url);
 * const input: DecideInput<MySession> = { session, path: url.pathname, search: url.search, method: request.method };
 * ```
 */
export interface DecideInput<S extends object = GuardSession, C = unknown> {
  /** The session, or `null`/`undefined` when there is none. Unauthenticated unless `userId` is a non-empty string. */
  readonly session: S | null | undefined;
  /** The raw, still percent-encoded URL pathname (`url.pathname`). */
  readonly path: string;
  /** The URL's query string including `?` (`url.search`), kept in the return-to location. */
  readonly search?: string;
  /** The request method. Default `GET`. */
  readonly method?: string;
  /** The router's matched route pattern (Astro `context.routePattern`), also checked when given. */
  readonly routePattern?: string;
  /** The `Accept` request header. */
  readonly accept?: string | null;
  /** The `Content-Type` request header. */
  readonly contentType?: string | null;
  /** Passed as the second argument to `allow` and the third to `access.check`. */
  readonly context?: C;
}

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
 * The rules that apply to one path, see {@link Guard.match}.
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
  readonly authenticated: boolean;
  readonly sources: readonly GuardSourceTrace<S, C>[];
  /** Rule evaluations in order; evaluation stops at the first failure. */
  readonly checks: readonly GuardCheckTrace<S, C>[];
}

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
  /** Decides a request. Returns a promise only when an `allow` or `access.check` hook did. */
  decide(input: DecideInput<S, C>): MaybePromise<GuardDecision<S, C>>;
  /** Same as {@link Guard.decide}, with the reasons. Slower: for development tools and tests. */
  explain(input: DecideInput<S, C>): MaybePromise<GuardExplanation<S, C>>;
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
/** Any origin works: return-to locations are paths, resolved only to be validated. */
const PATH_ORIGIN = 'http://sessionkit.invalid';
const MAX_ACCEPT_LENGTH = 1024;

const ALLOW_UNPROTECTED = Object.freeze({ action: 'allow', rule: undefined }) as GuardDecision<never, never>;

function body(code: GuardDenyCode, message: string): GuardDenyBody {
  return Object.freeze({ error: Object.freeze({ code, message }) });
}
const BODY_BAD_PATH = body('ERR_BAD_REQUEST', 'The request path is not acceptable.');
const BODY_UNAUTHENTICATED = body('ERR_UNAUTHENTICATED', 'Sign-in required.');
const BODY_FORBIDDEN = body('ERR_FORBIDDEN', 'Access denied.');
const DENY_BAD_PATH = Object.freeze({
  action: 'deny',
  status: 400,
  reason: 'bad-path',
  body: BODY_BAD_PATH,
  rule: undefined,
}) as GuardDecision<never, never>;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function lowerAscii(text: string): string {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x41 && code <= 0x5a) return text.toLowerCase();
  }
  return text;
}

/** The media type of a header entry, trimmed and lower-cased, without parameters. */
function mediaType(entry: string): { type: string; params: string } {
  const semicolon = entry.indexOf(';');
  const type = lowerAscii((semicolon === -1 ? entry : entry.slice(0, semicolon)).trim());
  return { type, params: semicolon === -1 ? '' : entry.slice(semicolon + 1) };
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function isHtmlType(type: string): boolean {
  return type === 'text/html' || type === 'application/xhtml+xml';
}

/** `q` of an Accept entry's parameters (1 when absent, 0 when malformed). */
function qualityOf(params: string): number {
  if (params === '') return 1;
  for (const param of params.split(';')) {
    const trimmed = param.trim();
    if (trimmed.length < 2 || (trimmed[0] !== 'q' && trimmed[0] !== 'Q') || trimmed[1] !== '=') continue;
    const value = Number(trimmed.slice(2));
    return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 0;
  }
  return 1;
}

/** True when an Accept header ranks a JSON type strictly above HTML (wildcards rank neither). */
function acceptPrefersJson(accept: string): boolean {
  const text = accept.length > MAX_ACCEPT_LENGTH ? accept.slice(0, MAX_ACCEPT_LENGTH) : accept;
  let json = 0;
  let html = 0;
  for (const entry of text.split(',')) {
    const { type, params } = mediaType(entry);
    if (isJsonType(type)) json = Math.max(json, qualityOf(params));
    else if (isHtmlType(type)) html = Math.max(html, qualityOf(params));
  }
  return json > 0 && json > html;
}

function joinPath(prefix: string, path: string): string {
  return prefix === '' ? path : path === '/' ? `${prefix}/` : `${prefix}${path}`;
}

/** The path part of a location (before `?` or `#`). */
function pathPart(location: string): string {
  let end = location.length;
  const query = location.indexOf('?');
  const hash = location.indexOf('#');
  if (query !== -1) end = query;
  if (hash !== -1 && hash < end) end = hash;
  return location.slice(0, end);
}

interface Trace<S extends object, C> {
  sources: GuardSourceTrace<S, C>[];
  checks: GuardCheckTrace<S, C>[];
  authenticated: boolean;
  kind: 'page' | 'api';
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
  const where = 'createGuard()';
  if (options === undefined) throw configError(`${where}: options are required (at least { rules }).`);
  assertOptionsObject(options, OPTION_KEYS, where);
  const caseSensitive = options.caseSensitive ?? false;
  const requestPaths = compileNormalizeOptions(
    { base: options.base, caseSensitive, maxLength: options.maxPathLength },
    where,
  );
  const configPaths = compileNormalizeOptions({ caseSensitive }, where);
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

  // Rules.
  const input = options.rules;
  if (!Array.isArray(input) || input.length > MAX_RULES) {
    throw configError(`${where}: rules must be an array of at most ${MAX_RULES} rules, got ${describeValue(input)}.`);
  }
  const compiled: CompiledRule<S, C>[] = input.map((rule, index) =>
    compileRule<S, C>(rule, index, caseSensitive, checkLocation),
  );
  const matcher = compileMatcher(compiled.map((rule) => rule.parsed));
  const rules = Object.freeze(compiled.map((rule) => rule.rule));

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
          `${where}: rules[${rule.index}] ("${rule.rule.pattern}") is public but rules[${other.index}] protects the same paths and methods.`,
          'Remove one of them, or narrow the public exception.',
        );
      }
    }
    return set;
  });

  // Request classification.
  if (!Array.isArray(options.apiPrefixes ?? [])) throw configError(`${where}: apiPrefixes must be an array.`);
  const apiPrefixes = (options.apiPrefixes ?? ['/api/']).map((prefix, index) => {
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
      throw configError(
        `${where}: apiPrefixes[${index}] must be a path starting with "/", got ${describeValue(prefix)}.`,
      );
    }
    const result = normalizeWith(prefix, configPaths);
    if (!result.ok) throw configError(`${where}: apiPrefixes[${index}] is not a valid path (${result.reason}).`);
    return result.segments;
  });

  const scratch: number[] = [];

  /**
   * Appends to `required` the protecting rules that apply to `segments` for `method`.
   * Returns the index of the public rule that applied (or matched with nothing protecting), or -1.
   */
  function resolve(
    segments: readonly string[],
    method: string,
    required: number[],
    sourceTrace: { matched: number[]; ignored: number[] } | undefined,
  ): number {
    if (scratch.length !== 0) scratch.length = 0;
    matcher.collect(segments, scratch);
    if (scratch.length === 0) return -1;
    if (scratch.length > 1) scratch.sort((a, b) => a - b);
    let firstPublic = -1;
    let protecting = 0;
    let exception = -1;
    for (const index of scratch) {
      const methods = (compiled[index] as CompiledRule<S, C>).methods;
      if (methods !== undefined && !methods.has(method)) continue;
      sourceTrace?.matched.push(index);
      if ((compiled[index] as CompiledRule<S, C>).isPublic) {
        if (firstPublic === -1) firstPublic = index;
      } else protecting++;
    }
    if (protecting === 0) return firstPublic;
    if (firstPublic !== -1) {
      // An exception applies only if it is strictly narrower than every matching protecting rule.
      for (const candidate of scratch) {
        const lifts = liftable[candidate];
        if (lifts === undefined) continue;
        const methods = (compiled[candidate] as CompiledRule<S, C>).methods;
        if (methods !== undefined && !methods.has(method)) continue;
        let all = true;
        for (const index of scratch) {
          const rule = compiled[index] as CompiledRule<S, C>;
          if (rule.isPublic || (rule.methods !== undefined && !rule.methods.has(method))) continue;
          if (!lifts.has(index)) {
            all = false;
            break;
          }
        }
        if (all) {
          exception = candidate;
          break;
        }
        sourceTrace?.ignored.push(candidate);
      }
      if (exception !== -1) return exception;
    }
    for (const index of scratch) {
      const rule = compiled[index] as CompiledRule<S, C>;
      if (!rule.isPublic && (rule.methods === undefined || rule.methods.has(method))) required.push(index);
    }
    return -1;
  }

  interface SourceState {
    required: number[];
    exception: number;
    trace: Trace<S, C> | undefined;
  }

  /** Adds the rules that apply to one reading (`segments`) to `state`. */
  function addSource(
    source: GuardSourceTrace['source'],
    normalized: PathAnalysis,
    segments: readonly string[],
    method: string,
    state: SourceState,
  ): void {
    const local = state.trace && { matched: [] as number[], ignored: [] as number[] };
    const before = state.required.length;
    const exception = resolve(segments, method, state.required, local);
    if (state.exception === -1) state.exception = exception;
    if (before > 0 && state.required.length > before) {
      // A second reading added rules: keep `required` sorted and without duplicates.
      state.required.sort((a, b) => a - b);
      let kept = 0;
      for (const index of state.required)
        if (kept === 0 || state.required[kept - 1] !== index) state.required[kept++] = index;
      state.required.length = kept;
    }
    if (state.trace && local) {
      state.trace.sources.push(
        Object.freeze({
          source,
          normalized: normalized as NormalizeResult, // with a trace, the full result is computed
          matched: Object.freeze(local.matched.map(ruleAt)),
          exception: exception === -1 ? undefined : (ruleAt(exception) as PublicRule),
          ignoredExceptions: Object.freeze(local.ignored.map((index) => ruleAt(index) as PublicRule)),
        }),
      );
    }
  }

  /** Adds both readings of a normalised URL path. */
  function addPath(normalized: PathAnalysis, method: string, state: SourceState): void {
    if (!normalized.ok) {
      state.trace?.sources.push(
        Object.freeze({ source: 'path', normalized, matched: [], exception: undefined, ignoredExceptions: [] }),
      );
      return;
    }
    addSource('path', normalized, normalized.segments, method, state);
    if (normalized.unsplitSegments !== undefined) {
      addSource('unsplit-path', normalized, normalized.unsplitSegments, method, state);
    }
  }

  function ruleAt(index: number): GuardRule<S, C> {
    return (compiled[index] as CompiledRule<S, C>).rule;
  }

  function toMatch(normalized: NormalizeResult, method: string, source: 'path' | 'route'): GuardMatch<S, C> {
    if (!normalized.ok) return normalized;
    const trace: Trace<S, C> = { sources: [], checks: [], authenticated: false, kind: 'page' };
    const state: SourceState = { required: [], exception: -1, trace };
    if (source === 'path') addPath(normalized, method, state);
    else addSource('route', normalized, normalized.segments, method, state);
    const matched = new Set<GuardRule<S, C>>();
    for (const entry of trace.sources) for (const rule of entry.matched) matched.add(rule);
    const byIndex = (a: GuardRule<S, C>, b: GuardRule<S, C>) => rules.indexOf(a) - rules.indexOf(b);
    return Object.freeze({
      ok: true,
      path: normalized.path,
      required: Object.freeze(state.required.map((index) => ruleAt(index) as ProtectRule<S, C>)),
      matched: Object.freeze([...matched].sort(byIndex)),
      exception:
        state.required.length > 0 || state.exception === -1 ? undefined : (ruleAt(state.exception) as PublicRule),
    });
  }

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
      const required: number[] = [];
      resolve(normalized.segments, method, required, undefined);
      if (required.length > 0) {
        const blocking = required.map(
          (index) => `rules[${index}] ("${(compiled[index] as CompiledRule<S, C>).rule.pattern}")`,
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
    const redirectTo = (rule.rule as ProtectRule<S, C>).redirectTo;
    if (redirectTo !== undefined) assertReachable(redirectTo, `${where}: rules[${rule.index}].redirectTo`, ['GET']);
  }
  const loginLocation = joinPath(basePrefix, loginPath);

  function report(error: unknown, rule: CompiledRule<S, C>, stage: GuardErrorInfo['stage']): void {
    if (onError === undefined) return;
    try {
      onError(error, Object.freeze({ pattern: rule.rule.pattern, stage }));
    } catch {
      // A failing logger must not turn a denial into a crash.
    }
  }

  function settle(
    value: unknown,
    rule: CompiledRule<S, C>,
    stage: GuardErrorInfo['stage'],
    trace: Trace<S, C> | undefined,
  ): MaybePromise<boolean> {
    try {
      if (!isThenable(value)) {
        trace?.checks.push({ rule: rule.rule as ProtectRule<S, C>, outcome: value === true ? 'pass' : 'fail' });
        return value === true;
      }
      // Both steps can run user code (a `then` or `constructor` getter): hence the try.
      return Promise.resolve(value).then(
        (result) => {
          trace?.checks.push({ rule: rule.rule as ProtectRule<S, C>, outcome: result === true ? 'pass' : 'fail' });
          return result === true;
        },
        (error: unknown) => {
          trace?.checks.push({ rule: rule.rule as ProtectRule<S, C>, outcome: 'error' });
          report(error, rule, stage);
          return false;
        },
      );
    } catch (error) {
      return fail(rule, stage, error, trace);
    }
  }

  function fail(rule: CompiledRule<S, C>, stage: GuardErrorInfo['stage'], error: unknown, trace?: Trace<S, C>): false {
    trace?.checks.push({ rule: rule.rule as ProtectRule<S, C>, outcome: 'error' });
    report(error, rule, stage);
    return false;
  }

  /** One protecting rule against a signed-in session. */
  function check(rule: CompiledRule<S, C>, session: S, context: C, trace: Trace<S, C> | undefined) {
    const spec = rule.rule as ProtectRule<S, C>;
    if (access?.check !== undefined) {
      let value: unknown;
      try {
        value = access.check(spec, session, context);
      } catch (error) {
        return fail(rule, 'check', error, trace);
      }
      return settle(value, rule, 'check', trace);
    }
    try {
      if (
        (spec.role !== undefined && !sessionHasRole(session, spec.role, access)) ||
        (spec.roles !== undefined && !sessionHasAnyRole(session, spec.roles, access)) ||
        (spec.permission !== undefined && !sessionHasPermission(session, spec.permission, access)) ||
        (spec.permissions !== undefined && !sessionHasAllPermissions(session, spec.permissions, access))
      ) {
        trace?.checks.push({ rule: spec, outcome: 'fail' });
        return false;
      }
    } catch (error) {
      return fail(rule, 'requirements', error, trace);
    }
    if (spec.allow === undefined) {
      trace?.checks.push({ rule: spec, outcome: 'pass' });
      return true;
    }
    let value: unknown;
    try {
      value = spec.allow(session, context);
    } catch (error) {
      return fail(rule, 'allow', error, trace);
    }
    return settle(value, rule, 'allow', trace);
  }

  /** Evaluates `required[from…]` in order; the position of the first failure, or -1. */
  function evaluate(
    required: readonly number[],
    from: number,
    session: S,
    context: C,
    trace: Trace<S, C> | undefined,
  ): MaybePromise<number> {
    for (let position = from; position < required.length; position++) {
      const result = check(compiled[required[position] as number] as CompiledRule<S, C>, session, context, trace);
      if (result === true) continue;
      if (result === false) return position;
      return result.then((passed) => (passed ? evaluate(required, position + 1, session, context, trace) : position));
    }
    return -1;
  }

  function isApi(method: string, input: DecideInput<S, C>, segments: readonly string[]): boolean {
    if (method !== 'GET' && method !== 'HEAD') return true;
    if (typeof input.contentType === 'string' && isJsonType(mediaType(input.contentType).type)) return true;
    for (const prefix of apiPrefixes) {
      if (prefix.length > segments.length) continue;
      let under = true;
      for (let index = 0; index < prefix.length && under; index++) under = prefix[index] === segments[index];
      if (under) return true;
    }
    return typeof input.accept === 'string' && acceptPrefersJson(input.accept);
  }

  function returnLocation(input: DecideInput<S, C>): string {
    const search = typeof input.search === 'string' && input.search.startsWith('?') ? input.search : '';
    const returnTo = safeRedirect(`${input.path}${search}`, PATH_ORIGIN, null);
    return returnTo === null ? loginLocation : withReturnTo(loginLocation, returnTo, returnToParam);
  }

  function decideCore(input: DecideInput<S, C>, trace: Trace<S, C> | undefined): MaybePromise<GuardDecision<S, C>> {
    if (typeof input !== 'object' || input === null) return DENY_BAD_PATH as GuardDecision<S, C>;
    const method = input.method === undefined ? 'GET' : String(input.method).toUpperCase();
    const normalized = trace ? normalizeWith(input.path, requestPaths) : analyzeWith(input.path, requestPaths);
    const state: SourceState = { required: [], exception: -1, trace };
    addPath(normalized, method, state);
    let routeOk = true;
    if (input.routePattern !== undefined) {
      const route = normalizeRoute(input.routePattern);
      routeOk = route.ok;
      if (route.ok) addSource('route', route, route.segments, method, state);
      else
        trace?.sources.push(
          Object.freeze({
            source: 'route',
            normalized: route,
            matched: [],
            exception: undefined,
            ignoredExceptions: [],
          }),
        );
    }
    if (!normalized.ok || !routeOk) return DENY_BAD_PATH as GuardDecision<S, C>;
    if (trace) trace.kind = isApi(method, input, normalized.segments) ? 'api' : 'page';
    const required = state.required;
    if (required.length === 0) {
      if (state.exception === -1) return ALLOW_UNPROTECTED as GuardDecision<S, C>;
      return { action: 'allow', rule: ruleAt(state.exception) };
    }

    const first = compiled[required[0] as number] as CompiledRule<S, C>;
    const segments = normalized.segments;
    let authenticated: boolean;
    try {
      authenticated = isAuthenticated(input.session);
    } catch (error) {
      report(error, first, 'session');
      authenticated = false;
    }
    if (trace) trace.authenticated = authenticated;
    if (!authenticated) {
      const rule = first.rule as ProtectRule<S, C>;
      if (isApi(method, input, segments)) {
        return { action: 'deny', status: 401, reason: 'unauthenticated', body: BODY_UNAUTHENTICATED, rule };
      }
      return { action: 'redirect', status: 303, location: returnLocation(input), reason: 'unauthenticated', rule };
    }

    const session = input.session as S;
    return mapMaybe(evaluate(required, 0, session, input.context as C, trace), (failed) => {
      if (failed === -1) return { action: 'allow', rule: first.rule };
      const rule = ruleAt(required[failed] as number) as ProtectRule<S, C>;
      if (rule.redirectTo !== undefined && !isApi(method, input, segments)) {
        return {
          action: 'redirect',
          status: 303,
          location: joinPath(basePrefix, rule.redirectTo),
          reason: 'forbidden',
          rule,
        };
      }
      return { action: 'deny', status: 403, reason: 'forbidden', body: BODY_FORBIDDEN, rule };
    });
  }

  return Object.freeze({
    rules,
    loginLocation,
    match: (path: string, method = 'GET') =>
      toMatch(normalizeWith(path, requestPaths), String(method).toUpperCase(), 'path'),
    matchRoute: (routePattern: string, method = 'GET') =>
      toMatch(normalizeRoute(routePattern), String(method).toUpperCase(), 'route'),
    decide: (input: DecideInput<S, C>) => decideCore(input, undefined),
    classify(input: Pick<DecideInput<S, C>, 'path' | 'method' | 'accept' | 'contentType'>) {
      const method = input.method === undefined ? 'GET' : String(input.method).toUpperCase();
      const normalized = normalizeWith(input.path, requestPaths);
      return isApi(method, input as DecideInput<S, C>, normalized.ok ? normalized.segments : []) ? 'api' : 'page';
    },
    explain: (input: DecideInput<S, C>) => {
      const trace: Trace<S, C> = { sources: [], checks: [], authenticated: false, kind: 'page' };
      const method = input?.method === undefined ? 'GET' : String(input.method).toUpperCase();
      return mapMaybe(decideCore(input, trace), (decision) =>
        Object.freeze({
          decision,
          method,
          kind: trace.kind,
          authenticated: trace.authenticated,
          sources: Object.freeze(trace.sources),
          checks: Object.freeze(trace.checks),
        }),
      );
    },
  });
}

function sameMethods<S extends object, C>(a: CompiledRule<S, C>, b: CompiledRule<S, C>): boolean {
  if (a.methods === undefined || b.methods === undefined) return a.methods === b.methods;
  if (a.methods.size !== b.methods.size) return false;
  for (const method of a.methods) if (!b.methods.has(method)) return false;
  return true;
}

/**
 * The request facts {@link Guard.decide} needs, read from a standard `Request`.
 *
 * @example
 * ```ts
 * const decision = await guard.decide({ ...requestInput(request), session, context });
 * ```
 */
export function requestInput(
  request: Request,
): Required<Pick<DecideInput, 'path' | 'search' | 'method' | 'accept' | 'contentType'>> {
  const url = new URL(request.url);
  return {
    path: url.pathname,
    search: url.search,
    method: request.method,
    accept: request.headers.get('accept'),
    contentType: request.headers.get('content-type'),
  };
}
