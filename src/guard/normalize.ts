/**
 * Request-path normalisation for the guard: one decode, one canonical form, never a throw.
 *
 * The guard only ever matches rules against the output of this module, so every spelling of a
 * path that a server might route to the same page (`/ADMIN`, `//admin`, `/%61dmin`, `/admin;x`,
 * `/admin/`) must come out as the same segments, and every spelling that cannot be interpreted
 * safely (malformed or double percent-encoding, control characters, dot segments, overlong input)
 * must come out as a failure, which the guard turns into a denial.
 *
 * No regular expression is ever run on the request path: the work is a few linear scans.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { assertNumberInRange, assertOptionsObject, describeValue } from '../core/options.ts';

/**
 * Why {@link normalizePath} refused a path.
 *
 * @example
 * ```ts
 * const result = normalizePath('/%2561dmin');
 * if (!result.ok && result.reason === 'double-encoding') metrics.increment('guard.double_encoding');
 * ```
 */
export type NormalizeFailure =
  /** The input was not a string. */
  | 'not-a-string'
  /** The input is longer than `maxLength` characters. */
  | 'too-long'
  /** The input does not start with `/` (or `\`). */
  | 'not-absolute'
  /** A control character (C0, DEL, C1, including NUL), raw or percent-encoded. */
  | 'control-character'
  /** A lone UTF-16 surrogate in the raw input. */
  | 'invalid-unicode'
  /** A `%` not followed by two hex digits, or bytes that are not UTF-8 (including overlong forms). */
  | 'malformed-encoding'
  /** After one decode, the path still holds a `%XX` escape (`%2561dmin`, `%252e`). */
  | 'double-encoding'
  /** A `.` or `..` segment (raw, encoded, or after `;` removal): refused rather than resolved. */
  | 'dot-segment'
  /** The path is not under the configured `base`. */
  | 'outside-base';

/**
 * The result of {@link normalizePath}: a discriminated union, never an exception.
 *
 * @example
 * ```ts
 * const result = normalizePath(url.pathname);
 * if (result.ok) console.log(result.path, result.segments);
 * else console.log('refused:', result.reason);
 * ```
 */
export type NormalizeResult =
  | {
      readonly ok: true;
      /**
       * The canonical path: `/` followed by the segments joined with `/`, no trailing slash (except
       * the root `/`), with `%` written as `%25`. A key for matching and display, not a URL to send.
       */
      readonly path: string;
      /** The decoded, case-folded (unless case-sensitive) segments, without empty ones. */
      readonly segments: readonly string[];
      /**
       * The same path as seen by a router that splits only on a raw `/` and keeps `\`, `;`, `%2F`,
       * `%5C` and `%3B` inside segments (most Node routers): each such segment is replaced by a
       * placeholder that only wildcard rule segments match. `undefined` when there is no such
       * segment. The guard requires the rules of both readings.
       */
      readonly unsplitSegments: readonly string[] | undefined;
    }
  | { readonly ok: false; readonly reason: NormalizeFailure };

/**
 * Options of {@link normalizePath} and {@link createPathNormalizer}.
 *
 * @example
 * ```ts
 * normalizePath('/docs/Admin', { base: '/docs', caseSensitive: true }); // path '/Admin'
 * ```
 */
export interface NormalizeOptions {
  /**
   * The app's base path (Astro's `base`), e.g. `/docs`. It is removed from the front of the path;
   * a path outside it fails with `outside-base`. Default: none.
   */
  base?: string;
  /**
   * Match case-sensitively. Default `false`: paths are case-folded, because a case-insensitive
   * file system or router may serve `/ADMIN` as `/admin`.
   */
  caseSensitive?: boolean;
  /** Longest raw path accepted, in UTF-16 code units. Default 16384 (about Node's header limit). */
  maxLength?: number;
}

/**
 * A compiled normaliser: see {@link createPathNormalizer}.
 *
 * @example
 * ```ts
 * const normalize: PathNormalizer = createPathNormalizer({ base: '/app' });
 * ```
 */
export type PathNormalizer = (rawPathname: string) => NormalizeResult;

/**
 * Default of {@link NormalizeOptions.maxLength}.
 *
 * @example
 * ```ts
 * normalizePath('/' + 'a'.repeat(DEFAULT_MAX_PATH_LENGTH)); // { ok: false, reason: 'too-long' }
 * ```
 */
export const DEFAULT_MAX_PATH_LENGTH = 16_384;

/**
 * The placeholder segment for an Astro dynamic parameter (`[id]`, `post-[slug]`, `[...slug]`) in a
 * normalised route pattern, and for an ambiguous segment in `unsplitSegments`. It contains NUL,
 * which no normalised request path and no rule literal can hold, so it only ever matches wildcard
 * rule segments.
 * @internal
 */
export const PARAM_SEGMENT = '\u0000[param]';

const KNOWN_OPTIONS = ['base', 'caseSensitive', 'maxLength'] as const;

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const SEMICOLON = 0x3b;

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

const SCAN_PERCENT = 1;
const SCAN_NON_ASCII = 2;
const SCAN_UPPER = 4;
const SCAN_CONTROL = 8;
const SCAN_BAD_SURROGATE = 16;
const SCAN_PERCENT_ESCAPE = 32;
/** A raw `\` or `;`: segments a plain router would not split or strip. */
const SCAN_SEPARATOR_LIKE = 64;

/** What each ASCII character contributes to the scan flags (0 for the common, plain ones). */
const ASCII_FLAGS = (() => {
  const table = new Uint8Array(0x80);
  for (let code = 0; code < 0x20; code++) table[code] = SCAN_CONTROL;
  table[0x7f] = SCAN_CONTROL;
  for (let code = 0x41; code <= 0x5a; code++) table[code] = SCAN_UPPER;
  table[PERCENT] = SCAN_PERCENT;
  table[BACKSLASH] = SCAN_SEPARATOR_LIKE;
  table[SEMICOLON] = SCAN_SEPARATOR_LIKE;
  return table;
})();

/** One linear pass collecting what the later steps need to know. */
function scan(text: string): number {
  let flags = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) {
      const bits = ASCII_FLAGS[code] as number;
      if (bits === 0) continue;
      flags |= bits;
      if (code === PERCENT && isHexDigit(text.charCodeAt(index + 1)) && isHexDigit(text.charCodeAt(index + 2))) {
        flags |= SCAN_PERCENT_ESCAPE;
      }
      continue;
    }
    flags |= SCAN_NON_ASCII;
    if (code <= 0x9f) flags |= SCAN_CONTROL;
    else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
      else flags |= SCAN_BAD_SURROGATE;
    } else if (code >= 0xdc00 && code <= 0xdfff) flags |= SCAN_BAD_SURROGATE;
  }
  return flags;
}

/**
 * Case-folds a string the way the guard compares paths when it is case-insensitive.
 * Lower, upper, lower: so that `ẞ`, `ß`, `SS` and `ss` all meet at `ss` and the fold is idempotent.
 * @internal
 */
export function foldCase(text: string): string {
  let ascii = true;
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text.toLowerCase();
  return text.normalize('NFC').toLowerCase().toUpperCase().toLowerCase().normalize('NFC');
}

/** {@link NormalizeOptions}, validated. @internal */
export interface CompiledNormalizeOptions {
  readonly baseSegments: readonly string[];
  readonly caseSensitive: boolean;
  readonly maxLength: number;
}

/**
 * Splits on `/` and `\`, drops matrix parameters (`;…` to the end of a segment) and empty
 * segments. Returns `undefined` when a `.` or `..` segment is left: those are refused, not resolved.
 */
function toSegments(text: string, separatorLike: boolean): string[] | undefined {
  if (!separatorLike) {
    // No `\` and no `;`: the engine's split is several times faster than the loop below.
    const parts = text.split('/');
    let kept = 0;
    for (let index = 0; index < parts.length; index++) {
      const part = parts[index] as string;
      if (part === '') continue;
      if (part === '.' || part === '..') return undefined;
      parts[kept++] = part;
    }
    if (kept === parts.length) return parts;
    // A copy of the kept part: shrinking `parts.length` goes through the engine's slow path.
    const segments = new Array<string>(kept);
    for (let index = 0; index < kept; index++) segments[index] = parts[index] as string;
    return segments;
  }
  const segments: string[] = [];
  let start = 0;
  for (let index = 0; index <= text.length; index++) {
    const code = index === text.length ? SLASH : text.charCodeAt(index);
    if (code !== SLASH && code !== BACKSLASH) continue;
    if (index > start) {
      let end = index;
      for (let cursor = start; cursor < index; cursor++) {
        if (text.charCodeAt(cursor) === SEMICOLON) {
          end = cursor;
          break;
        }
      }
      if (end > start) {
        const segment = text.slice(start, end);
        if (segment === '.' || segment === '..') return undefined;
        segments.push(segment);
      }
    }
    start = index + 1;
  }
  return segments;
}

/** True when a raw segment holds `\`, `;`, or an encoded `/`, `\` or `;`. */
function isAmbiguousRawSegment(segment: string): boolean {
  for (let index = 0; index < segment.length; index++) {
    const code = segment.charCodeAt(index);
    if (code === BACKSLASH || code === SEMICOLON) return true;
    if (code === PERCENT && index + 2 < segment.length) {
      const high = segment.charCodeAt(index + 1);
      const low = segment.charCodeAt(index + 2) | 0x20;
      if ((high === 0x32 && low === 0x66) || (high === 0x35 && low === 0x63) || (high === 0x33 && low === 0x62)) {
        return true;
      }
    }
  }
  return false;
}

/**
 * The path as a router that splits only on raw `/` sees it: segments holding `\`, `;`, `%2F`,
 * `%5C` or `%3B` become {@link PARAM_SEGMENT} (they can only be served by a parameter route).
 * `undefined` when no segment is ambiguous.
 */
function unsplitSegments(raw: string, options: CompiledNormalizeOptions): string[] | undefined {
  const parts = raw.split('/');
  let ambiguous = false;
  for (const part of parts) {
    if (isAmbiguousRawSegment(part)) {
      ambiguous = true;
      break;
    }
  }
  if (!ambiguous) return undefined;
  const segments: string[] = [];
  for (const part of parts) {
    if (part === '') continue;
    if (isAmbiguousRawSegment(part)) {
      segments.push(PARAM_SEGMENT);
      continue;
    }
    // Cannot throw: the whole path decoded, and escapes never span a `/`.
    let segment = part.includes('%') ? decodeURIComponent(part) : part;
    segment = segment.normalize('NFC');
    segments.push(options.caseSensitive ? segment : foldCase(segment));
  }
  return segments;
}

/** `/` + segments, with `%` escaped so that the output normalises to itself. */
function joinSegments(segments: readonly string[]): string {
  if (segments.length === 0) return '/';
  const joined = `/${segments.join('/')}`;
  return joined.includes('%') ? joined.replaceAll('%', '%25') : joined;
}

function stripBase(segments: string[], baseSegments: readonly string[]): boolean {
  if (baseSegments.length === 0) return true;
  if (segments.length < baseSegments.length) return false;
  for (let index = 0; index < baseSegments.length; index++) {
    if (segments[index] !== baseSegments[index]) return false;
  }
  segments.splice(0, baseSegments.length);
  return true;
}

/** A normalised path without its joined `path` string: what the guard needs per request. @internal */
export type PathAnalysis =
  | { readonly ok: true; readonly segments: readonly string[]; readonly unsplitSegments: readonly string[] | undefined }
  | { readonly ok: false; readonly reason: NormalizeFailure };

function analyze(raw: unknown, options: CompiledNormalizeOptions): PathAnalysis {
  if (typeof raw !== 'string') return failure('not-a-string');
  if (raw.length > options.maxLength) return failure('too-long');
  const first = raw.charCodeAt(0);
  if (first !== SLASH && first !== BACKSLASH) return failure('not-absolute');
  const rawFlags = scan(raw);
  if (rawFlags & SCAN_CONTROL) return failure('control-character');
  if (rawFlags & SCAN_BAD_SURROGATE) return failure('invalid-unicode');
  let flags = rawFlags;
  let text = raw;
  if (flags & SCAN_PERCENT) {
    try {
      text = decodeURIComponent(raw);
    } catch {
      return failure('malformed-encoding');
    }
    flags = scan(text);
    if (flags & SCAN_CONTROL) return failure('control-character');
    if (flags & SCAN_PERCENT_ESCAPE) return failure('double-encoding');
  }
  if (flags & SCAN_NON_ASCII) {
    text = text.normalize('NFC');
    if (!options.caseSensitive) text = foldCase(text);
    // NFC can produce ASCII: U+037E GREEK QUESTION MARK becomes `;`. Look again.
    flags = scan(text);
    if (flags & (SCAN_CONTROL | SCAN_BAD_SURROGATE)) return failure('control-character');
  } else if (!options.caseSensitive && flags & SCAN_UPPER) text = text.toLowerCase();
  const segments = toSegments(text, (flags & SCAN_SEPARATOR_LIKE) !== 0);
  if (segments === undefined) return failure('dot-segment');
  if (!stripBase(segments, options.baseSegments)) return failure('outside-base');
  if (!(rawFlags & (SCAN_PERCENT | SCAN_SEPARATOR_LIKE))) return { ok: true, segments, unsplitSegments: undefined };
  const unsplit = unsplitSegments(raw, options);
  if (unsplit !== undefined && !stripBase(unsplit, options.baseSegments)) return failure('outside-base');
  return { ok: true, segments, unsplitSegments: unsplit };
}

function runNormalize(raw: unknown, options: CompiledNormalizeOptions): NormalizeResult {
  const analysis = analyze(raw, options);
  if (!analysis.ok) return analysis;
  return {
    ok: true,
    path: joinSegments(analysis.segments),
    segments: analysis.segments,
    unsplitSegments: analysis.unsplitSegments,
  };
}

type Failure = { readonly ok: false; readonly reason: NormalizeFailure };

/** One frozen result per reason: refusing a path allocates nothing. */
const FAILURES: Readonly<Record<NormalizeFailure, Failure>> = Object.freeze(
  Object.fromEntries(
    (
      [
        'not-a-string',
        'too-long',
        'not-absolute',
        'control-character',
        'invalid-unicode',
        'malformed-encoding',
        'double-encoding',
        'dot-segment',
        'outside-base',
      ] as const
    ).map((reason) => [reason, Object.freeze({ ok: false, reason })]),
  ) as Record<NormalizeFailure, Failure>,
);

function failure(reason: NormalizeFailure): Failure {
  return FAILURES[reason];
}

/** Validates {@link NormalizeOptions} once. @internal */
export function compileNormalizeOptions(
  options: NormalizeOptions | undefined,
  where: string,
): CompiledNormalizeOptions {
  assertOptionsObject(options, KNOWN_OPTIONS, where);
  const caseSensitive = options?.caseSensitive ?? false;
  if (typeof caseSensitive !== 'boolean') {
    throw configError(`${where}: caseSensitive must be a boolean, got ${describeValue(caseSensitive)}.`);
  }
  const maxLength = options?.maxLength ?? DEFAULT_MAX_PATH_LENGTH;
  assertNumberInRange(maxLength, 1, 1_048_576, `${where}: maxLength`);
  let baseSegments: readonly string[] = [];
  if (options?.base !== undefined) {
    const base = options.base;
    if (typeof base !== 'string' || !base.startsWith('/')) {
      throw configError(`${where}: base must be a path starting with "/", got ${describeValue(base)}.`);
    }
    const result = runNormalize(base, { baseSegments: [], caseSensitive, maxLength: 4096 });
    if (!result.ok) throw configError(`${where}: base is not a valid path (${result.reason}).`);
    baseSegments = Object.freeze([...result.segments]);
  }
  return Object.freeze({ baseSegments, caseSensitive, maxLength: Math.floor(maxLength) });
}

/**
 * Validates the options once and returns a normaliser for the request path; the per-request form
 * of {@link normalizePath}.
 *
 * @example
 * ```ts
 * const normalize = createPathNormalizer({ base: '/docs' });
 * normalize('/docs//Guide/intro/'); // { ok: true, path: '/guide/intro', segments: ['guide', 'intro'], unsplitSegments: undefined }
 * normalize('/blog'); // { ok: false, reason: 'outside-base' }
 * ```
 */
export function createPathNormalizer(options?: NormalizeOptions): PathNormalizer {
  const compiled = compileNormalizeOptions(options, 'createPathNormalizer()');
  return (rawPathname) => runNormalize(rawPathname, compiled);
}

/** @internal */
export function normalizeWith(rawPathname: unknown, options: CompiledNormalizeOptions): NormalizeResult {
  return runNormalize(rawPathname, options);
}

/** The per-request form: like {@link normalizeWith}, without building `path`. @internal */
export function analyzeWith(rawPathname: unknown, options: CompiledNormalizeOptions): PathAnalysis {
  return analyze(rawPathname, options);
}

/**
 * Normalises a raw, still percent-encoded request pathname (`new URL(request.url).pathname`)
 * into the canonical segments the guard matches rules against.
 *
 * In order: reject over-long input, control characters (NUL, tab, CR/LF, DEL, C1) and lone
 * surrogates; percent-decode exactly once (malformed escapes and non-UTF-8 bytes, including
 * overlong forms such as `%C0%AE`, fail); fail if a `%XX` escape survives the decode (double
 * encoding); Unicode NFC; case-fold unless `caseSensitive`; treat `/` and `\` (raw or decoded
 * from `%2F` / `%5C`) as separators; drop `;` matrix parameters and empty segments; refuse `.`
 * and `..` segments (browsers never send them, and servers disagree on how to resolve
 * `/admin/..;x` or `/admin%2F..`); remove `base`. A trailing slash never matters.
 *
 * When the raw path has segments that a router splitting only on a raw `/` would keep whole
 * (holding `\`, `;`, `%2F`, `%5C` or `%3B`), `unsplitSegments` gives that second reading, with
 * those segments as placeholders only wildcards match; the guard applies the rules of both.
 *
 * Never throws on hostile input: the result says `ok: false` with a reason instead.
 * Validates `options` on every call: in a request handler use {@link createPathNormalizer}.
 *
 * @example
 * ```ts
 * normalizePath('//%61dmin/Users/'); // { ok: true, path: '/admin/users', segments: ['admin', 'users'], unsplitSegments: undefined }
 * normalizePath('/admin;jsessionid=1'); // { ok: true, path: '/admin', segments: ['admin'], unsplitSegments: [<placeholder>] }
 * normalizePath('/%2561dmin'); // { ok: false, reason: 'double-encoding' }
 * normalizePath('/public/../admin'); // { ok: false, reason: 'dot-segment' }
 * normalizePath('/Admin', { caseSensitive: true }); // { ok: true, path: '/Admin', segments: ['Admin'], unsplitSegments: undefined }
 * ```
 */
export function normalizePath(rawPathname: string, options?: NormalizeOptions): NormalizeResult {
  return runNormalize(rawPathname, compileNormalizeOptions(options, 'normalizePath()'));
}

/** @internal */
export function normalizeRouteWith(routePattern: unknown, options: CompiledNormalizeOptions): NormalizeResult {
  if (typeof routePattern !== 'string') return failure('not-a-string');
  if (routePattern.length > options.maxLength) return failure('too-long');
  if (routePattern.charCodeAt(0) !== SLASH) return failure('not-absolute');
  const flags = scan(routePattern);
  if (flags & SCAN_CONTROL) return failure('control-character');
  if (flags & SCAN_BAD_SURROGATE) return failure('invalid-unicode');
  const segments: string[] = [];
  const shown: string[] = [];
  for (const part of routePattern.split('/')) {
    if (part === '') continue;
    if (part === '.' || part === '..') return failure('dot-segment');
    if (part.includes('[')) {
      segments.push(PARAM_SEGMENT);
      shown.push(part);
      continue;
    }
    let literal = flags & SCAN_NON_ASCII ? part.normalize('NFC') : part;
    if (!options.caseSensitive) literal = foldCase(literal);
    segments.push(literal);
    shown.push(literal);
  }
  return { ok: true, path: joinSegments(shown), segments, unsplitSegments: undefined };
}

/**
 * Normalises an Astro route pattern (`context.routePattern`, e.g. `/admin/[id]` or
 * `/docs/[...slug]`) for matching. The pattern is not percent-decoded and the base is not removed
 * (Astro's route patterns have neither). Each dynamic segment (`[id]`, `post-[slug]`) becomes a
 * placeholder that only wildcard rule segments (`*`, `[param]`, `**`) match, never a literal; a
 * rest parameter (`[...slug]`) becomes one such placeholder segment, so `/docs/*` and `/docs/**`
 * both cover `/docs/[...slug]`. Literal segments are NFC-normalised and case-folded like paths.
 *
 * @example
 * ```ts
 * const route = normalizeRoutePattern('/Admin/[id]');
 * // { ok: true, path: '/admin/[id]', segments: ['admin', <placeholder>], unsplitSegments: undefined }
 * ```
 */
export function normalizeRoutePattern(routePattern: string, options?: NormalizeOptions): NormalizeResult {
  return normalizeRouteWith(routePattern, compileNormalizeOptions(options, 'normalizeRoutePattern()'));
}
