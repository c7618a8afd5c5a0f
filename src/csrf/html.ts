/**
 * Markup and header helpers for putting a CSRF token into pages and requests.
 *
 * @module
 */
import { configError } from '../core/errors.ts';

/**
 * The default request header carrying the token.
 *
 * @example
 * ```ts
 * request.headers.get(defaultCsrfHeaderName); // 'x-csrf-token'
 * ```
 */
export const defaultCsrfHeaderName = 'x-csrf-token';
/**
 * The default form field carrying the token.
 *
 * @example
 * ```ts
 * `<input type="hidden" name="${defaultCsrfFieldName}" ...>`; // name="csrf_token"
 * ```
 */
export const defaultCsrfFieldName = 'csrf_token';
/** RFC 9110 `token` characters: what a header name may contain. */
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/**
 * True when `name` is a valid HTTP header name (at most 64 characters).
 *
 * @example
 * ```ts
 * isHeaderName('x-csrf-token'); // true
 * isHeaderName('x csrf'); // false
 * ```
 */
export function isHeaderName(name: unknown): name is string {
  return typeof name === 'string' && headerNamePattern.test(name);
}

/**
 * The `name` of the `<meta>` element {@link csrfMeta} writes and {@link csrfFetchScript} reads.
 *
 * @example
 * ```ts
 * document.querySelector(`meta[name="${csrfMetaName}"]`)?.getAttribute('content');
 * ```
 */
export const csrfMetaName = 'csrf-token';

const htmlEscapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for an HTML attribute value or text node.
 *
 * @example
 * ```ts
 * escapeHtml('"<x>"'); // '&quot;&lt;x&gt;&quot;'
 * ```
 */
export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (char) => htmlEscapes[char] as string);
}

/**
 * A hidden `<input>` carrying the token, for server-rendered forms.
 *
 * @param token - a token from `issueToken()`
 * @param fieldName - the form field name (default `csrf_token`; match the protection's `fieldName`)
 *
 * @example
 * ```astro
 * <form method="post"><Fragment set:html={csrfField(token)} /> ...</form>
 * ```
 */
export function csrfField(token: string, fieldName: string = defaultCsrfFieldName): string {
  return `<input type="hidden" name="${escapeHtml(fieldName)}" value="${escapeHtml(token)}">`;
}

/**
 * A `<meta name="csrf-token">` element carrying the token, read by {@link csrfFetchScript}.
 *
 * @example
 * ```astro
 * <head><Fragment set:html={csrfMeta(token)} /></head>
 * ```
 */
export function csrfMeta(token: string): string {
  return `<meta name="${csrfMetaName}" content="${escapeHtml(token)}">`;
}

/**
 * Headers carrying the token, for `fetch` calls made with a token at hand.
 *
 * @example
 * ```ts
 * await fetch('/api/todos', { method: 'POST', headers: { ...csrfHeaders(token), 'content-type': 'application/json' }, body });
 * ```
 */
export function csrfHeaders(token: string, headerName: string = defaultCsrfHeaderName): Record<string, string> {
  return { [headerName]: token };
}

/**
 * Client-side JavaScript (as a string) that wraps `window.fetch` so that every same-origin
 * request with an unsafe method carries the token from `<meta name="csrf-token">`. Requests to
 * other origins never see the token. Serve it as a file or inline it with a CSP nonce.
 *
 * @param headerName - the header to set (default `x-csrf-token`)
 *
 * @example
 * ```astro
 * <script is:inline set:html={csrfFetchScript()} />
 * ```
 */
export function csrfFetchScript(headerName: string = defaultCsrfHeaderName): string {
  if (!isHeaderName(headerName)) throw configError('csrfFetchScript(): headerName is not a valid header name.');
  const header = JSON.stringify(headerName);
  return `(()=>{const m=document.querySelector('meta[name="${csrfMetaName}"]');if(!m||!window.fetch)return;const t=m.getAttribute('content')||'';const f=window.fetch.bind(window);const safe=['GET','HEAD','OPTIONS'];window.fetch=(input,init)=>{const r=input instanceof Request?input:null;const u=new URL(r?r.url:String(input),location.href);const method=String((init&&init.method)||(r&&r.method)||'GET').toUpperCase();if(u.origin!==location.origin||safe.includes(method))return f(input,init);const h=new Headers((init&&init.headers)||(r&&r.headers)||undefined);if(!h.has(${header}))h.set(${header},t);return f(input,{...(init||{}),headers:h});};})();`;
}
