/**
 * Per-route CSRF opt-out (webhooks, third-party callbacks). Patterns are exact paths or a
 * prefix followed by `/**`; no regular expressions. Request paths are read by the guard's path
 * normaliser, the one every layer uses; a path that is not plain (one the normaliser refuses, one
 * routers can read two ways, or one it had to rewrite) is never exempt, so an opt-out cannot be
 * stretched onto a protected route by path tricks: such requests are simply checked.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { compileNormalizeOptions, normalizeWith } from '../guard/normalize.ts';

/**
 * A predicate deciding exemption. It receives the plain, percent-decoded path; paths that are
 * not plain never reach it.
 *
 * @example
 * ```ts
 * const exempt: CsrfExemptPredicate = (path) => path.startsWith('/webhooks/');
 * ```
 */
export type CsrfExemptPredicate = (path: string, request: Request) => boolean;

/**
 * Exact paths (`/webhooks/stripe`) and prefixes (`/webhooks/**`, which also matches
 * `/webhooks`), or a predicate. Matching is case-sensitive; a trailing slash is ignored.
 *
 * @example
 * ```ts
 * createCsrfProtection({ keyRing, exempt: ['/webhooks/**', '/api/health'] });
 * ```
 */
export type CsrfExemptOption = readonly string[] | CsrfExemptPredicate;

/** A compiled exemption test. */
export type CsrfExemptMatcher = (path: string, request: Request) => boolean;

const maxPathLength = 2048;
/** Exemptions are matched case-sensitively, on paths of at most {@link maxPathLength} characters. */
const exemptPaths = compileNormalizeOptions({ caseSensitive: true, maxLength: maxPathLength }, 'CSRF exempt');

function trimTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** True when `text` holds `%2E` or `%2e`: browsers never encode a dot, so only crafted paths do. */
function hasEncodedDot(text: string): boolean {
  for (let index = text.indexOf('%'); index !== -1; index = text.indexOf('%', index + 1)) {
    if (text.charCodeAt(index + 1) === 0x32 && (text.charCodeAt(index + 2) | 0x20) === 0x65) return true;
  }
  return false;
}

/**
 * The path to match exemptions against, or `undefined` when the path is not plain enough to
 * be exempted safely (the request is then checked as usual). Plain means: the guard's normaliser
 * (case-sensitive) accepts it, with one reading only (no `\`, `;`, `%2F`, `%5C` or `%3B` that
 * routers split differently), and it is already canonical: normalising changed nothing but one
 * percent-decode and a trailing slash (no `//`, no `%25`, no spelling that Unicode NFC rewrites).
 * An encoded dot (`%2E`) is refused too.
 *
 * @example
 * ```ts
 * plainPath('/webhooks/stripe'); // '/webhooks/stripe'
 * plainPath('/webhooks/..%2Faccount'); // undefined
 * plainPath('/webhooks/stripe;x'); // undefined
 * ```
 */
export function plainPath(rawPath: string): string | undefined {
  const normalized = normalizeWith(rawPath, exemptPaths);
  if (!normalized.ok || normalized.unsplitSegments !== undefined || hasEncodedDot(rawPath)) return undefined;
  // Cannot throw: the normaliser decoded the same text.
  const decoded = rawPath.includes('%') ? decodeURIComponent(rawPath) : rawPath;
  return normalized.path === trimTrailingSlash(decoded) ? normalized.path : undefined;
}

function validatePattern(pattern: unknown, index: number, where: string): string {
  const label = `${where}: exempt[${index}]`;
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) {
    throw configError(
      `${label} must be a path starting with "/".`,
      'For example "/webhooks/stripe" or "/webhooks/**".',
    );
  }
  const base = pattern.endsWith('/**') ? pattern.slice(0, -3) || '/' : pattern;
  if (pattern.endsWith('/**') && base === '/') {
    throw configError(`${label} ("${pattern}") would exempt every route.`, 'Exempt only the routes that need it.');
  }
  if (
    base.includes('*') ||
    base.includes('?') ||
    base.includes('#') ||
    base.includes('%') ||
    plainPath(base) === undefined
  ) {
    throw configError(
      `${label} ("${pattern}") is not a plain path or a "prefix/**" pattern.`,
      'Only exact paths and a trailing "/**" are supported; use a predicate for anything else.',
    );
  }
  return pattern;
}

/**
 * Compiles the `exempt` option once into a matcher.
 *
 * @throws `ERR_CONFIG_INVALID` for patterns other than exact paths and `prefix/**`
 *
 * @example
 * ```ts
 * const isExempt = compileExempt(['/webhooks/**', '/api/ping'], 'createCsrfProtection()');
 * isExempt('/webhooks/stripe', request); // true
 * ```
 */
export function compileExempt(option: CsrfExemptOption | undefined, where: string): CsrfExemptMatcher {
  if (option === undefined) return () => false;
  if (typeof option === 'function') {
    return (path, request) => {
      const plain = plainPath(path);
      return plain !== undefined && option(plain, request) === true;
    };
  }
  if (!Array.isArray(option)) {
    throw configError(`${where}: "exempt" must be a list of paths or a predicate function.`);
  }
  const exact = new Set<string>();
  const prefixes: string[] = [];
  option.forEach((pattern: unknown, index) => {
    const valid = validatePattern(pattern, index, where);
    if (valid.endsWith('/**')) {
      const base = trimTrailingSlash(valid.slice(0, -3) || '/');
      prefixes.push(base === '/' ? '/' : `${base}/`);
      exact.add(base);
    } else {
      exact.add(trimTrailingSlash(valid));
    }
  });
  return (path) => {
    const plain = plainPath(path);
    if (plain === undefined) return false;
    if (exact.has(plain)) return true;
    return prefixes.some((prefix) => plain.startsWith(prefix));
  };
}
