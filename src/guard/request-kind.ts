/**
 * The one answer to "who sent this request, and how should sessionkit answer it by itself?":
 * a browser loading a page, a browser submitting a form, or a program. The guard (redirect or
 * 401/403), the CSRF refusal and every framework adapter read it from here, so that one request
 * never gets two different answers. Imports nothing from any framework.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { describeValue } from '../core/options.ts';
import { type CompiledNormalizeOptions, normalizeWith } from './normalize.ts';

/**
 * What kind of client sent a request:
 *
 * - `page`: a browser loading a page (GET or HEAD). It may be redirected (to sign in), and its
 *   error answers are HTML pages.
 * - `form`: a browser submitting a form (another method, an `Accept` header ranking HTML above
 *   JSON, a body that is not JSON). Never redirected by the guard (the form would be lost); a
 *   refused form (CSRF) gets an HTML page.
 * - `api`: a program: a JSON body, an `Accept` header ranking JSON above HTML, a GET or HEAD
 *   under an API prefix, or another method without an HTML preference. JSON answers, never a
 *   redirect.
 *
 * @example
 * ```ts
 * const kind: RequestKind = classifyRequest({ method: 'POST', accept: 'text/html', contentType: null }, false); // 'form'
 * ```
 */
export type RequestKind = 'page' | 'form' | 'api';

/**
 * The request facts {@link classifyRequest} reads.
 *
 * @example
 * ```ts
 * const facts: RequestFacts = { method: 'GET', accept: request.headers.get('accept'), contentType: null };
 * ```
 */
export interface RequestFacts {
  /** The request method, upper case. */
  readonly method: string;
  /** The `Accept` request header. */
  readonly accept?: string | null;
  /** The `Content-Type` request header. */
  readonly contentType?: string | null;
}

/** Longest `Accept` header read; the rest is ignored (a browser's is about 100 characters). */
const MAX_ACCEPT_LENGTH = 1024;
/** `Accept` ranks neither JSON nor HTML above the other (missing, wildcards only, equal weights). */
const PREFERS_NEITHER = 0;
const PREFERS_JSON = 1;
const PREFERS_HTML = 2;

function lowerAscii(text: string): string {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x41 && code <= 0x5a) return text.toLowerCase();
  }
  return text;
}

/** The media type of a header entry, trimmed and lower-cased, without parameters. */
function mediaTypeOf(entry: string, semicolon: number): string {
  return lowerAscii((semicolon === -1 ? entry : entry.slice(0, semicolon)).trim());
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function isHtmlType(type: string): boolean {
  return type === 'text/html' || type === 'application/xhtml+xml';
}

/** `q` of an Accept entry's parameters (1 when absent, 0 when malformed). */
function qualityOf(params: string): number {
  for (const param of params.split(';')) {
    const trimmed = param.trim();
    if (trimmed.length < 2 || (trimmed[0] !== 'q' && trimmed[0] !== 'Q') || trimmed[1] !== '=') continue;
    const value = Number(trimmed.slice(2));
    return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 0;
  }
  return 1;
}

/** Which of JSON and HTML an Accept header ranks strictly higher (wildcards rank neither). */
function acceptPreference(accept: string): number {
  const text = accept.length > MAX_ACCEPT_LENGTH ? accept.slice(0, MAX_ACCEPT_LENGTH) : accept;
  let json = 0;
  let html = 0;
  for (const entry of text.split(',')) {
    const semicolon = entry.indexOf(';');
    const type = mediaTypeOf(entry, semicolon);
    const isJson = isJsonType(type);
    if (!isJson && !isHtmlType(type)) continue;
    const quality = semicolon === -1 ? 1 : qualityOf(entry.slice(semicolon + 1));
    if (isJson) json = Math.max(json, quality);
    else html = Math.max(html, quality);
  }
  if (json > html) return PREFERS_JSON;
  return html > json ? PREFERS_HTML : PREFERS_NEITHER;
}

/**
 * Classifies a request (see {@link RequestKind}), in this order: a JSON body is `api`; an
 * `Accept` header ranking JSON above HTML is `api`; a GET or HEAD is `page`, or `api` under an
 * API prefix; any other method is `form` when `Accept` ranks HTML above JSON, else `api`.
 *
 * @param facts - the method (upper case) and the `Accept` and `Content-Type` headers
 * @param underApiPrefix - whether the normalised path is under one of the app's API prefixes
 *
 * @example
 * ```ts
 * classifyRequest({ method: 'GET', accept: 'text/html' }, false); // 'page'
 * classifyRequest({ method: 'GET', accept: 'text/html' }, true); // 'api'
 * classifyRequest({ method: 'POST', accept: 'text/html,application/xml;q=0.9' }, true); // 'form'
 * classifyRequest({ method: 'POST', accept: null }, false); // 'api' (fetch() without headers)
 * ```
 */
export function classifyRequest(facts: RequestFacts, underApiPrefix: boolean): RequestKind {
  const contentType = facts.contentType;
  if (typeof contentType === 'string' && contentType.length > 0) {
    const semicolon = contentType.indexOf(';');
    if (isJsonType(mediaTypeOf(contentType, semicolon))) return 'api';
  }
  const accept = facts.accept;
  const preference = typeof accept === 'string' && accept.length > 0 ? acceptPreference(accept) : PREFERS_NEITHER;
  if (preference === PREFERS_JSON) return 'api';
  const method = facts.method;
  if (method === 'GET' || method === 'HEAD') return underApiPrefix ? 'api' : 'page';
  return preference === PREFERS_HTML ? 'form' : 'api';
}

/**
 * API prefixes as normalised segments, validated once.
 * @internal
 */
export function compileApiPrefixes(
  prefixes: unknown,
  where: string,
  paths: CompiledNormalizeOptions,
): readonly (readonly string[])[] {
  if (prefixes === undefined) prefixes = ['/api/'];
  if (!Array.isArray(prefixes)) throw configError(`${where}: apiPrefixes must be an array.`);
  return prefixes.map((prefix: unknown, index) => {
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
      throw configError(
        `${where}: apiPrefixes[${index}] must be a path starting with "/", got ${describeValue(prefix)}.`,
      );
    }
    const result = normalizeWith(prefix, paths);
    if (!result.ok) throw configError(`${where}: apiPrefixes[${index}] is not a valid path (${result.reason}).`);
    return result.segments;
  });
}

/**
 * True when `segments` (a normalised path) starts with one of `prefixes`.
 * @internal
 */
export function isUnderPrefix(segments: readonly string[], prefixes: readonly (readonly string[])[]): boolean {
  for (const prefix of prefixes) {
    if (prefix.length > segments.length) continue;
    let under = true;
    for (let index = 0; index < prefix.length && under; index++) under = prefix[index] === segments[index];
    if (under) return true;
  }
  return false;
}
