/**
 * Rule types and their construction-time validation: patterns are parsed into tokens here,
 * once, and every mistake becomes an `ERR_CONFIG_INVALID` before the first request.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { assertOptionsObject, describeValue } from '../core/options.ts';
import { foldCase } from './normalize.ts';

/**
 * The session shape the built-in checks read. Every field is optional and untrusted: a session
 * without a non-empty string `userId` is unauthenticated; `role` is the primary role, `roles`
 * more roles, `permissions` the granted permissions. Other fields are yours (`allow` can read them).
 *
 * @example
 * ```ts
 * const session: GuardSession = { userId: 'u_1', role: 'editor', roles: ['billing'], permissions: ['posts:write'] };
 * ```
 */
export interface GuardSession {
  readonly userId?: unknown;
  readonly role?: unknown;
  readonly roles?: unknown;
  readonly permissions?: unknown;
  readonly [key: string]: unknown;
}

/** What every rule has: a pattern and, optionally, the methods it is limited to. */
interface RuleBase {
  /**
   * Which paths the rule covers: `/admin` (exactly), `/admin/*` (one or more segments below),
   * `/admin/**` (the path and everything below), `*` or `[id]` as a whole middle segment (exactly
   * one segment), `[...rest]` as the last segment (same as `**`).
   */
  readonly pattern: string;
  /**
   * Limit the rule to these HTTP methods (case-insensitive). `GET` includes `HEAD`, since servers
   * answer HEAD with the GET handler. Default: every method.
   */
  readonly methods?: readonly string[];
}

/**
 * A rule that protects paths: the request must come from a signed-in session, and every
 * requirement given must hold (they are combined with AND). A rule gives at least one
 * requirement; `authenticated: true` alone means "any signed-in session".
 *
 * @typeParam S - your session type
 * @typeParam C - the request context passed to `allow` (for Astro: the `APIContext`)
 *
 * @example
 * ```ts
 * const rules: ProtectRule[] = [
 *   { pattern: '/dashboard/**', authenticated: true },
 *   { pattern: '/admin/**', role: 'admin', redirectTo: '/unauthorized' },
 *   { pattern: '/billing/**', roles: ['owner', 'billing'] },
 *   { pattern: '/api/posts/**', methods: ['POST', 'DELETE'], permissions: ['posts:write'] },
 *   { pattern: '/premium/**', allow: (session) => session.plan === 'premium' },
 * ];
 * ```
 */
export interface ProtectRule<S extends object = GuardSession, C = unknown> extends RuleBase {
  /**
   * The session is signed in (a non-empty string `userId`). Every protecting rule requires that;
   * write it when nothing else is required. Plain data, so it can sit in `astro.config`. Must be
   * exactly `true` when given.
   */
  readonly authenticated?: true;
  /** The session's primary `role` is this, or `roles` contains it. */
  readonly role?: string;
  /** The session has at least one of these roles (primary or in `roles`). */
  readonly roles?: readonly string[];
  /** The session's permissions contain this one. */
  readonly permission?: string;
  /** The session's permissions contain all of these. */
  readonly permissions?: readonly string[];
  /**
   * Custom check, called only for signed-in sessions and only after the built-in requirements of
   * the rule passed. Only `true` allows; anything else, a throw or a rejected promise denies.
   * For "any signed-in session", write `authenticated: true` instead of `allow: () => true`.
   */
  readonly allow?: (session: S, context: C) => boolean | Promise<boolean>;
  /** Where a signed-in session that fails this rule is sent on a page request (instead of a 403). */
  readonly redirectTo?: string;
  /** Not allowed on a protecting rule. */
  readonly public?: never;
}

/**
 * An exception: matching paths need nothing, provided the exception is narrower than every
 * protecting rule that also matches (see docs/guard.md, "Precedence").
 *
 * @example
 * ```ts
 * const rules: GuardRule[] = [
 *   { pattern: '/admin/**', role: 'admin' },
 *   { pattern: '/admin/help', public: true },
 * ];
 * ```
 */
export interface PublicRule extends RuleBase {
  /** Marks the exception. Must be exactly `true`. */
  readonly public: true;
}

/**
 * One entry of `createGuard({ rules })`: a {@link ProtectRule} or a {@link PublicRule}.
 *
 * @example
 * ```ts
 * const rule: GuardRule = { pattern: '/dashboard/**', authenticated: true }; // any signed-in session
 * ```
 */
export type GuardRule<S extends object = GuardSession, C = unknown> = ProtectRule<S, C> | PublicRule;

/**
 * Hooks that change how sessions are read (as in astro-sessionkit).
 *
 * @example
 * ```ts
 * const access: AccessHooks<MySession> = {
 *   getRole: (session) => session.primaryRole,
 *   getPermissions: (session) => [...session.permissions, ...session.teamPermissions],
 * };
 * ```
 */
export interface AccessHooks<S extends object = GuardSession, C = unknown> {
  /** The primary role (default `session.role`). Membership in `session.roles` still counts. */
  readonly getRole?: (session: S) => string | null | undefined;
  /** The granted permissions (default `session.permissions`). */
  readonly getPermissions?: (session: S) => readonly string[] | null | undefined;
  /**
   * Replaces every built-in check and `allow` for protecting rules: the rule passes only when this
   * returns `true`. Still called only for signed-in sessions.
   */
  readonly check?: (rule: ProtectRule<S, C>, session: S, context: C) => boolean | Promise<boolean>;
}

/**
 * The tail of a parsed pattern: nothing (`exact`), one-or-more segments (trailing `*`) or
 * zero-or-more segments (trailing `**` / `[...rest]`).
 * @internal
 */
export type PatternTail = 'exact' | 'plus' | 'star';

/**
 * A parsed pattern: `null` tokens are single-segment wildcards.
 * @internal
 */
export interface ParsedPattern {
  readonly tokens: readonly (string | null)[];
  readonly tail: PatternTail;
  /** Canonical spelling: one-segment wildcards written `[param]`, `[...rest]` written `**`, literals folded. */
  readonly canonical: string;
}

/** A validated, frozen rule with its parsed pattern. @internal */
export interface CompiledRule<S extends object, C> {
  readonly index: number;
  readonly rule: GuardRule<S, C>;
  readonly parsed: ParsedPattern;
  /** Upper-cased methods, or `undefined` for every method. */
  readonly methods: ReadonlySet<string> | undefined;
  readonly isPublic: boolean;
}

const RULE_KEYS = [
  'pattern',
  'authenticated',
  'role',
  'roles',
  'permission',
  'permissions',
  'allow',
  'redirectTo',
  'methods',
  'public',
] as const;

/** The keys that make a rule protect something; a public rule may have none of them. */
const REQUIREMENT_KEYS = ['authenticated', 'role', 'roles', 'permission', 'permissions', 'allow'] as const;

/** Longest list a rule may give in `roles` / `permissions` / `methods`. */
const MAX_RULE_LIST = 1000;
const MAX_PATTERN_LENGTH = 16_384;

/** Characters never allowed in a literal segment (glob, regex and URL syntax). */
const FORBIDDEN_LITERAL_CHARS = '*?[]{}()+^$|\\%;#';

/**
 * Parses one rule pattern, or throws `ERR_CONFIG_INVALID` saying what is wrong.
 * @internal
 */
export function parsePattern(pattern: unknown, caseSensitive: boolean, label: string): ParsedPattern {
  if (typeof pattern !== 'string') {
    throw configError(`${label}: pattern must be a string, got ${describeValue(pattern)}.`);
  }
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    throw configError(`${label}: pattern must be 1 to ${MAX_PATTERN_LENGTH} characters long.`);
  }
  if (!pattern.startsWith('/')) {
    throw configError(`${label}: pattern "${pattern}" must start with "/".`, `Write "/${pattern}".`);
  }
  if (pattern === '/') return { tokens: [], tail: 'exact', canonical: '/' };
  const parts = pattern.slice(1).split('/');
  const tokens: (string | null)[] = [];
  let tail: PatternTail = 'exact';
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index] as string;
    const last = index === parts.length - 1;
    if (part === '') {
      throw configError(
        `${label}: pattern "${pattern}" has an empty segment.`,
        last ? 'Remove the trailing slash: a trailing slash never changes what a path matches.' : 'Use single slashes.',
      );
    }
    if (part === '**' || /* Astro rest parameter */ (part.startsWith('[...') && part.endsWith(']'))) {
      if (!last) {
        throw configError(
          `${label}: pattern "${pattern}": "${part}" is only allowed as the last segment.`,
          'Use "*" (or "[param]") for exactly one segment in the middle of a pattern.',
        );
      }
      checkParamName(part.slice(4, -1), pattern, label, part);
      tail = 'star';
      continue;
    }
    if (part === '*') {
      if (last) tail = 'plus';
      else tokens.push(null);
      continue;
    }
    if (part.startsWith('[') && part.endsWith(']')) {
      checkParamName(part.slice(1, -1), pattern, label, part);
      tokens.push(null);
      continue;
    }
    tokens.push(parseLiteral(part, pattern, caseSensitive, label));
  }
  return { tokens, tail, canonical: canonicalOf(tokens, tail) };
}

function checkParamName(name: string, pattern: string, label: string, part: string): void {
  if (part === '**') return;
  let valid = name.length > 0;
  for (let index = 0; valid && index < name.length; index++) {
    const code = name.charCodeAt(index);
    valid =
      (code >= 0x30 && code <= 0x39) ||
      (code >= 0x41 && code <= 0x5a) ||
      (code >= 0x61 && code <= 0x7a) ||
      code === 0x5f ||
      code === 0x2d;
  }
  if (!valid) {
    throw configError(
      `${label}: pattern "${pattern}": "${part}" is not a parameter segment.`,
      'A parameter is a whole segment such as "[id]" or, last, "[...rest]" (letters, digits, "_" and "-").',
    );
  }
}

function parseLiteral(raw: string, pattern: string, caseSensitive: boolean, label: string): string {
  // Checked after NFC, which can produce ASCII (U+037E GREEK QUESTION MARK becomes `;`).
  const part = raw.normalize('NFC');
  if (part === '.' || part === '..') {
    throw configError(`${label}: pattern "${pattern}" contains a "${part}" segment.`, 'Write the resolved path.');
  }
  if (part.startsWith(':')) {
    throw configError(
      `${label}: pattern "${pattern}": "${part}" would only match a literal "${part}".`,
      `Use "*" or "[${part.slice(1) || 'param'}]" for a parameter segment.`,
    );
  }
  for (let index = 0; index < part.length; index++) {
    const char = part[index] as string;
    const code = part.charCodeAt(index);
    if (code <= 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0xfffd) {
      throw configError(`${label}: pattern "${pattern}" contains a control or whitespace character.`);
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = part.charCodeAt(index + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        index++;
        continue;
      }
      throw configError(`${label}: pattern "${pattern}" contains a lone surrogate.`);
    }
    if (FORBIDDEN_LITERAL_CHARS.includes(char)) {
      throw configError(
        `${label}: pattern "${pattern}" contains "${char}", which is not allowed in a literal segment.`,
        char === '*'
          ? 'Wildcards are whole segments: "/admin/*", "/admin/**", "/org/*/settings".'
          : 'Patterns are plain decoded paths with "*", "**", "[param]" or "[...rest]" segments; no regex, no globs inside a segment, no percent-encoding.',
      );
    }
  }
  return caseSensitive ? part : foldCase(part);
}

function canonicalOf(tokens: readonly (string | null)[], tail: PatternTail): string {
  let text = '';
  for (const token of tokens) text += `/${token ?? '[param]'}`;
  if (tail === 'plus') text += '/*';
  else if (tail === 'star') text += '/**';
  return text === '' ? '/' : text;
}

function assertStringList(value: unknown, label: string, what: string): readonly string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RULE_LIST) {
    throw configError(`${label}: ${what} must be a non-empty array of at most ${MAX_RULE_LIST} strings.`);
  }
  for (const entry of value) {
    if (typeof entry !== 'string' || entry.length === 0) {
      throw configError(`${label}: every entry of ${what} must be a non-empty string, got ${describeValue(entry)}.`);
    }
  }
  return Object.freeze([...value]);
}

function assertNonEmptyString(value: unknown, label: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw configError(`${label}: ${what} must be a non-empty string, got ${describeValue(value)}.`);
  }
  return value;
}

/** An RFC 9110 token, which is what an HTTP method is. */
function isMethodToken(value: string): boolean {
  if (value.length === 0 || value.length > 32) return false;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    const alphanumeric =
      (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
    if (!alphanumeric && !"!#$%&'*+-.^_`|~".includes(value[index] as string)) return false;
  }
  return true;
}

/**
 * Validates one rule and returns a frozen copy with its parsed pattern. `label` starts its error
 * messages (`createGuard(): rules[0]`); `checkRedirect` validates `redirectTo` (same-origin path)
 * and is supplied by the guard.
 * @internal
 */
export function compileRule<S extends object, C>(
  input: unknown,
  index: number,
  label: string,
  caseSensitive: boolean,
  checkRedirect: (location: string, label: string) => void,
): CompiledRule<S, C> {
  if (input === undefined) throw configError(`${label}: a rule must be an object, got undefined.`);
  assertOptionsObject(input, RULE_KEYS, label);
  const raw = input as Record<string, unknown>;
  const parsed = parsePattern(raw.pattern, caseSensitive, label);
  const where = `${label} ("${raw.pattern as string}")`;
  const copy: Record<string, unknown> = { pattern: raw.pattern };

  let methods: ReadonlySet<string> | undefined;
  if (raw.methods !== undefined) {
    const list = assertStringList(raw.methods, where, 'methods');
    for (const method of list) {
      if (!isMethodToken(method)) throw configError(`${where}: "${method}" is not an HTTP method.`);
    }
    copy.methods = list;
    const upper = new Set(list.map((method) => method.toUpperCase()));
    // Servers answer HEAD with the GET handler (Astro does): a rule for GET covers HEAD too.
    if (upper.has('GET')) upper.add('HEAD');
    methods = upper;
  }

  const requirementKeys = REQUIREMENT_KEYS.filter((key) => raw[key] !== undefined);
  if (raw.public !== undefined) {
    if (raw.public !== true) {
      throw configError(`${where}: public must be true when given.`, 'Remove "public" to make the rule protect paths.');
    }
    if (requirementKeys.length > 0 || raw.redirectTo !== undefined) {
      const extra = [...requirementKeys, ...(raw.redirectTo !== undefined ? ['redirectTo'] : [])];
      throw configError(
        `${where}: a public rule cannot also have ${extra.join(', ')}.`,
        'Split it into a protecting rule and a public exception with a narrower pattern.',
      );
    }
    copy.public = true;
    return Object.freeze({
      index,
      rule: Object.freeze(copy) as unknown as GuardRule<S, C>,
      parsed,
      methods,
      isPublic: true,
    });
  }

  if (requirementKeys.length === 0) {
    throw configError(
      `${where}: the rule requires nothing.`,
      'Give authenticated: true (any signed-in session), role, roles, permission, permissions or allow; or public: true for an exception.',
    );
  }
  if (raw.authenticated !== undefined) {
    if (raw.authenticated !== true) {
      throw configError(
        `${where}: authenticated must be true when given, got ${describeValue(raw.authenticated)}.`,
        'Every protecting rule requires a signed-in session; for paths anyone may see, write a public exception: { pattern, public: true }.',
      );
    }
    copy.authenticated = true;
  }
  if (raw.role !== undefined) copy.role = assertNonEmptyString(raw.role, where, 'role');
  if (raw.roles !== undefined) copy.roles = assertStringList(raw.roles, where, 'roles');
  if (raw.permission !== undefined) copy.permission = assertNonEmptyString(raw.permission, where, 'permission');
  if (raw.permissions !== undefined) copy.permissions = assertStringList(raw.permissions, where, 'permissions');
  if (raw.allow !== undefined) {
    if (typeof raw.allow !== 'function') {
      throw configError(`${where}: allow must be a function, got ${describeValue(raw.allow)}.`);
    }
    copy.allow = raw.allow;
  }
  if (raw.redirectTo !== undefined) {
    const location = assertNonEmptyString(raw.redirectTo, where, 'redirectTo');
    checkRedirect(location, where);
    copy.redirectTo = location;
  }
  return Object.freeze({
    index,
    rule: Object.freeze(copy) as unknown as GuardRule<S, C>,
    parsed,
    methods,
    isPublic: false,
  });
}

/** Smallest and largest segment count a pattern matches (`Infinity` when unbounded). */
function lengthRange(pattern: ParsedPattern): [number, number] {
  const count = pattern.tokens.length;
  if (pattern.tail === 'exact') return [count, count];
  return [pattern.tail === 'plus' ? count + 1 : count, Number.POSITIVE_INFINITY];
}

/**
 * True when every path `inner` matches is also matched by `outer` (set inclusion of the two
 * patterns' languages). Exact for this pattern language: positions are independent, so it is
 * enough to compare the length ranges and, position by position, the constraints `outer` puts.
 * @internal
 */
export function patternCovers(outer: ParsedPattern, inner: ParsedPattern): boolean {
  const [innerMin, innerMax] = lengthRange(inner);
  const [outerMin, outerMax] = lengthRange(outer);
  if (innerMin < outerMin || innerMax > outerMax) return false;
  for (let position = 0; position < outer.tokens.length; position++) {
    const required = outer.tokens[position];
    if (required === null) continue;
    // Every path of `inner` has a segment here (innerMin >= outerMin >= outer.tokens.length).
    if (position >= inner.tokens.length || inner.tokens[position] !== required) return false;
  }
  return true;
}

/** True when the method set `inner` is within `outer` (`undefined` is every method). @internal */
export function methodsCover(outer: ReadonlySet<string> | undefined, inner: ReadonlySet<string> | undefined): boolean {
  if (outer === undefined) return true;
  if (inner === undefined) return false;
  for (const method of inner) if (!outer.has(method)) return false;
  return true;
}

/**
 * True when the public rule `exception` is strictly narrower than the protecting rule `rule`:
 * every (path, method) it matches `rule` matches too, and they are not the same set.
 * @internal
 */
export function isStrictlyNarrower<S extends object, C>(
  exception: CompiledRule<S, C>,
  rule: CompiledRule<S, C>,
): boolean {
  if (!patternCovers(rule.parsed, exception.parsed) || !methodsCover(rule.methods, exception.methods)) return false;
  const samePaths = patternCovers(exception.parsed, rule.parsed);
  const sameMethods = methodsCover(exception.methods, rule.methods);
  return !(samePaths && sameMethods);
}
