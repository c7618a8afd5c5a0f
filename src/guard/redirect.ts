/**
 * Open-redirect-proof handling of "return to" locations (after sign-in, after sign-out).
 *
 * A location is accepted only if it is a same-origin path, in every reading of it: as written,
 * after the URL parser resolved it (`/.//evil` resolves to `//evil`), and after any number of
 * percent-decodes (`/%2F%2Fevil`, `/%5Cevil`, `/%09/evil`), because some later layer may decode
 * it again. Its path must also be one the guard's path normaliser accepts (the one every layer
 * uses), so a location never names a path the guard would refuse. Anything doubtful gives the
 * fallback.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { describeValue } from '../core/options.ts';
import { analyzeWith, compileNormalizeOptions } from './normalize.ts';

/**
 * Longest location accepted by {@link safeRedirect}.
 *
 * @example
 * ```ts
 * safeRedirect('/' + 'a'.repeat(MAX_REDIRECT_LENGTH), request); // '/' (the fallback)
 * ```
 */
export const MAX_REDIRECT_LENGTH = 2048;

/** How many nested percent-encodings are unwrapped before giving up (and rejecting). */
const MAX_DECODE_LAYERS = 4;

/** Locations' paths are read like request paths (the case does not matter to a validation). */
const locationPaths = compileNormalizeOptions(
  { caseSensitive: true, maxLength: MAX_REDIRECT_LENGTH },
  'safeRedirect()',
);

/**
 * Where a location is resolved against: the request, its URL, or the app's base URL.
 *
 * @example
 * ```ts
 * safeRedirect('/next', 'https://app.example'); // or a Request, or a URL
 * ```
 */
export type RedirectBase = Request | URL | string;

function originOf(base: RedirectBase): string {
  let url: URL;
  if (typeof base === 'string') {
    try {
      url = new URL(base);
    } catch {
      throw configError(`safeRedirect(): base must be an absolute URL, got ${describeValue(base)}.`);
    }
  } else if (base instanceof URL) {
    url = base;
  } else if (typeof base === 'object' && base !== null && typeof (base as Request).url === 'string') {
    url = new URL((base as Request).url);
  } else {
    throw configError(`safeRedirect(): base must be a Request, URL or string, got ${describeValue(base)}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(`safeRedirect(): base must be an http(s) URL, got protocol "${url.protocol}".`);
  }
  return url.origin;
}

/**
 * No controls, and no leading `//`, `/\` or `\`, in the text and in each of its percent-decodings.
 * `strict` (for the raw input) also refuses raw spaces.
 */
function everyReadingIsSafe(text: string, strict: boolean): boolean {
  let layer = text;
  for (let round = 0; round <= MAX_DECODE_LAYERS; round++) {
    let hasPercent = false;
    for (let index = 0; index < layer.length; index++) {
      const code = layer.charCodeAt(index);
      if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || (strict && round === 0 && code === 0x20)) return false;
      if (code >= 0xd800 && code <= 0xdfff) {
        const next = layer.charCodeAt(index + 1);
        if (code > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
        index++;
      }
      if (code === 0x25) hasPercent = true;
    }
    const first = layer.charCodeAt(0);
    const second = layer.charCodeAt(1);
    if (first === 0x5c || (first === 0x2f && (second === 0x2f || second === 0x5c))) return false;
    if (!hasPercent) return true;
    let decoded: string;
    try {
      decoded = decodeURIComponent(layer);
    } catch {
      return false;
    }
    if (decoded === layer) return true;
    layer = decoded;
  }
  return false;
}

function resolveSameOrigin(target: unknown, origin: string): string | null {
  if (typeof target !== 'string' || target.length === 0 || target.length > MAX_REDIRECT_LENGTH) return null;
  if (!everyReadingIsSafe(target, true)) return null;
  let resolved: URL;
  try {
    if (target.charCodeAt(0) === 0x2f) {
      resolved = new URL(target, origin);
    } else {
      // Only an absolute http(s) URL of the same origin; never a relative or scheme-relative one.
      resolved = new URL(target);
      if (resolved.protocol !== 'https:' && resolved.protocol !== 'http:') return null;
    }
  } catch {
    return null;
  }
  if (resolved.origin !== origin || resolved.username !== '' || resolved.password !== '') return null;
  const location = resolved.pathname + resolved.search + resolved.hash;
  const second = location.charCodeAt(1);
  if (location.charCodeAt(0) !== 0x2f || second === 0x2f || second === 0x5c) return null;
  // A path the guard refuses (double encoding, an encoded dot segment) is no place to send anyone.
  if (!analyzeWith(resolved.pathname, locationPaths).ok) return null;
  return everyReadingIsSafe(location, false) ? location : null;
}

/**
 * Returns `target` as a same-origin `path?search#hash` if it is unquestionably one, else `fallback`.
 *
 * Accepted: a path starting with a single `/`, or an absolute `http(s)` URL of the same origin
 * (returned without its origin). Refused: relative paths, `//host` and `/\host`, other schemes
 * (`javascript:`, `data:`), other origins, user-info, control characters and raw whitespace,
 * locations that resolve to `//…` (`/.//evil`), and all of those percent-encoded once or several
 * times (`/%2F%2Fevil`, `/%5Cevil`, `/%09/evil`), malformed encodings, paths the guard's
 * normaliser refuses (`/%2561dmin`, `/a%2F..%2Fadmin`: see `normalizePath`), and anything longer
 * than {@link MAX_REDIRECT_LENGTH}.
 *
 * @param target - the untrusted location, e.g. `url.searchParams.get('returnTo')` (any type)
 * @param base - the current request, its URL, or the app's origin: defines "same origin"
 * @param fallback - returned when `target` is refused (default `/`); pass `null` to detect refusal
 * @throws `ERR_CONFIG_INVALID` only when `base` itself is not an http(s) URL (a programming error)
 *
 * @example
 * ```ts
 * safeRedirect('/dashboard?tab=2', request); // '/dashboard?tab=2'
 * safeRedirect('https://evil.example/', request); // '/'
 * safeRedirect('/%2F%2Fevil.example', 'https://app.example', '/home'); // '/home'
 * safeRedirect(url.searchParams.get('returnTo'), request, null); // string | null
 * ```
 */
export function safeRedirect(target: unknown, base: RedirectBase, fallback?: string): string;
export function safeRedirect(target: unknown, base: RedirectBase, fallback: string | null): string | null;
export function safeRedirect(target: unknown, base: RedirectBase, fallback: string | null = '/'): string | null {
  return resolveSameOrigin(target, originOf(base)) ?? fallback;
}

/**
 * Default name of the query parameter carrying the return-to location.
 *
 * @example
 * ```ts
 * new URL(request.url).searchParams.get(DEFAULT_RETURN_TO_PARAM); // what readReturnTo() reads
 * ```
 */
export const DEFAULT_RETURN_TO_PARAM = 'returnTo';

/**
 * Appends `?returnTo=<location>` (or `&…`) to a login location. `returnTo` must already be
 * validated (the guard passes it through {@link safeRedirect}).
 *
 * @example
 * ```ts
 * withReturnTo('/login', '/admin/users?page=2'); // '/login?returnTo=%2Fadmin%2Fusers%3Fpage%3D2'
 * ```
 */
export function withReturnTo(location: string, returnTo: string, param: string = DEFAULT_RETURN_TO_PARAM): string {
  const separator = location.includes('?') ? '&' : '?';
  return `${location}${separator}${encodeURIComponent(param)}=${encodeURIComponent(returnTo)}`;
}

/**
 * Reads the return-to location from a request's query (as set by the guard's login redirect)
 * and validates it with {@link safeRedirect}. Use it in the sign-in handler.
 *
 * @example
 * ```ts
 * // after a successful sign-in:
 * return Response.redirect(new URL(readReturnTo(request), request.url), 303);
 * ```
 */
export function readReturnTo(request: Request, options: { param?: string; fallback?: string } = {}): string {
  const url = new URL(request.url);
  return safeRedirect(url.searchParams.get(options.param ?? DEFAULT_RETURN_TO_PARAM), url, options.fallback ?? '/');
}
