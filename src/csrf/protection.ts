/**
 * `createCsrfProtection()`: validates options and derives keys once; `verifyRequest()` then
 * costs a few header reads and, for unsafe methods, one HMAC.
 *
 * Policy for unsafe methods (anything but GET, HEAD and OPTIONS, compared case-insensitively):
 *
 * 1. Exempt routes skip every check.
 * 2. An `Origin` listed in `trustedOrigins` passes the origin checks (it is cross-origin by
 *    definition, so `Sec-Fetch-Site` would say `same-site` or `cross-site`).
 * 3. `Sec-Fetch-Site`, when the browser sends it, decides: `same-origin` and `none` (a
 *    user-initiated navigation, which another site cannot cause) pass, `same-site` passes only
 *    with `allowSameSite`, anything else fails, whatever the URL says. The browser computes it
 *    from the origin it actually addressed, so it stays right behind proxies and when the server
 *    does not know its public host name (Astro 7.4+ builds `request.url` from `localhost` unless
 *    the `Host` matches `security.allowedDomains`).
 * 4. Without `Sec-Fetch-Site` (older browsers), `Origin`, when present, must be the app's own
 *    origin (the `origin` option, else the origin of `request.url`) or trusted; `null` fails.
 * 5. With neither, a `Referer`, if present, must be same-origin or trusted.
 * 6. A token bound to the session id (or, for forms shown before any session existed, to the
 *    anonymous CSRF cookie's id) must be in the header, or, for form content types only, in the
 *    form field. JSON and every other content type must use the header.
 *
 * @module
 */
import type { CryptoEngine } from '../core/aead.ts';
import { configError } from '../core/errors.ts';
import { createReporter, type ReportingOptions } from '../core/events.ts';
import type { KeyRing } from '../core/keyring.ts';
import { assertNumberInRange, assertOptionsObject, describeValue } from '../core/options.ts';
import { type Clock, type RandomBytes, secureRandomBytes, systemClock } from '../core/runtime.ts';
import { isFormMediaType, mediaTypeOf, readFormToken } from './body.ts';
import { type CsrfExemptOption, compileExempt } from './exempt.ts';
import {
  csrfFetchScript,
  csrfField,
  csrfHeaders,
  csrfMeta,
  defaultCsrfFieldName,
  defaultCsrfHeaderName,
  isHeaderName,
} from './html.ts';
import { anonymousBinding, type CsrfTokenCheck, createCsrfTokenCodec } from './token.ts';

/**
 * Options of {@link createCsrfProtection}.
 *
 * @example
 * ```ts
 * const options: CsrfProtectionOptions = {
 *   keyRing,
 *   trustedOrigins: ['https://admin.example.com'],
 *   exempt: ['/webhooks/**'],
 * };
 * ```
 */
export interface CsrfProtectionOptions extends ReportingOptions {
  /** The key ring from `createKeyRing()`, shared with sessions; a `csrf` subkey is derived from it. */
  keyRing: KeyRing;
  /** Extra origins allowed to post (exact `scheme://host[:port]`, e.g. `https://admin.example.com`). */
  trustedOrigins?: readonly string[];
  /** Request header carrying the token. Default `x-csrf-token`. */
  headerName?: string;
  /** Form field carrying the token. Default `csrf_token`. */
  fieldName?: string;
  /** Routes that skip CSRF checks (webhooks): exact paths, `prefix/**` patterns, or a predicate. */
  exempt?: CsrfExemptOption;
  /** Accept `Sec-Fetch-Site: same-site` (sibling subdomains). Default `false`. */
  allowSameSite?: boolean;
  /** Maximum token age in seconds. Default 86400 (24 h, the default idle timeout of sessions). */
  maxAgeSeconds?: number;
  /** Largest `application/x-www-form-urlencoded` body read to find the token. Default 1 MiB. */
  maxFormBytes?: number;
  /** Largest `multipart/form-data` body read to find the token. Default 10 MiB. */
  maxMultipartBytes?: number;
  /** HMAC engine. Default `auto` (node:crypto when available, else WebCrypto). */
  cryptoEngine?: CryptoEngine;
  /** Clock in milliseconds (for tests). */
  now?: Clock;
  /** Random source for token nonces (for tests). */
  randomBytes?: RandomBytes;
}

/**
 * Why a request failed CSRF verification.
 *
 * @example
 * ```ts
 * if (!verdict.ok && verdict.reason === 'missing-token') hint = 'Add csrf.field(token) to the form.';
 * ```
 */
export type CsrfFailureReason =
  /** `Origin` (or, without `Origin`/`Sec-Fetch-Site`, `Referer`) names another, untrusted origin, or is `null`. */
  | 'origin'
  /** `Sec-Fetch-Site` says the request came from another site. */
  | 'fetch-site'
  /** No token in the header (or, for forms, in the form field). */
  | 'missing-token'
  /** A token was present but is forged, expired, or belongs to another session. */
  | 'bad-token'
  /** The request has neither a session nor an anonymous CSRF cookie to check a token against. */
  | 'no-session'
  /** The form body exceeds the configured limit, so the field could not be looked for. */
  | 'body-too-large';

/**
 * A failed CSRF verification, with the HTTP status to answer (413 only for an oversized form).
 *
 * @example
 * ```ts
 * if (!verdict.ok) return csrfFailureResponse(verdict); // verdict: CsrfFailure
 * ```
 */
export type CsrfFailure =
  | { readonly ok: false; readonly reason: Exclude<CsrfFailureReason, 'body-too-large'>; readonly status: 403 }
  | { readonly ok: false; readonly reason: 'body-too-large'; readonly status: 413 };

/**
 * The result of {@link CsrfProtection.verifyRequest}.
 *
 * @example
 * ```ts
 * const verdict: CsrfVerdict = await csrf.verifyRequest(request, { sessionId: session.id });
 * ```
 */
export type CsrfVerdict = { readonly ok: true } | CsrfFailure;

/**
 * Per-request input of {@link CsrfProtection.verifyRequest}.
 *
 * @example
 * ```ts
 * await csrf.verifyRequest(context.request, {
 *   sessionId: session.id,
 *   path: context.routePattern,
 *   origin: context.url.origin,
 * });
 * ```
 */
export interface VerifyRequestOptions {
  /** The id of the request's session; `undefined`/`null`/empty when there is none. */
  sessionId: string | null | undefined;
  /**
   * The id of the request's anonymous CSRF cookie, when it carries one: a token issued with
   * {@link CsrfProtection.issueAnonymousToken} for it passes too (forms shown before any session
   * existed, such as sign-in). Default: none.
   */
  anonymousId?: string | undefined;
  /**
   * The path matched against `exempt`. Default: the pathname of `request.url`. The Astro layer
   * passes `context.routePattern`, so opt-outs follow routes, not raw paths.
   */
  path?: string;
  /**
   * The app's public origin, when it differs from `request.url` (behind a TLS proxy).
   * Default: the origin of `request.url`.
   */
  origin?: string;
  /**
   * `false` checks only `Origin` / `Sec-Fetch-Site` / `Referer` (for apps whose sessions sessionkit
   * does not manage, such as the Astro bridge mode). Default `true`.
   */
  requireToken?: boolean;
}

/**
 * CSRF protection for one app, from {@link createCsrfProtection}.
 *
 * @example
 * ```ts
 * const token = await csrf.issueToken(session.id);
 * const html = `<head>${csrf.meta(token)}</head><form method="post">${csrf.field(token)}</form>`;
 * ```
 */
export interface CsrfProtection {
  /** A fresh token bound to `sessionId` (every call differs). Throws if `sessionId` is empty. */
  issueToken(sessionId: string): Promise<string>;
  /**
   * A fresh token bound to an anonymous CSRF cookie's id, for a form shown before any session
   * exists; {@link CsrfProtection.verifyRequest} accepts it when given the same `anonymousId`.
   * Throws if `anonymousId` is empty.
   */
  issueAnonymousToken(anonymousId: string): Promise<string>;
  /** Verifies a token against `sessionId`. Never throws on bad input. */
  verifyToken(token: unknown, sessionId: unknown): Promise<CsrfTokenCheck>;
  /** Verifies a request (origin headers, then token). Never throws; leaves the body readable. */
  verifyRequest(request: Request, options: VerifyRequestOptions): Promise<CsrfVerdict>;
  /** True when `path` is exempt from checks. */
  isExempt(path: string, request: Request): boolean;
  /** A hidden input carrying `token`, named after `fieldName`. */
  field(token: string): string;
  /** `<meta name="csrf-token">` carrying `token`. */
  meta(token: string): string;
  /** `{ [headerName]: token }`. */
  headers(token: string): Record<string, string>;
  /** The client fetch wrapper script, for the configured header. */
  readonly fetchScript: string;
  /** The configured header name (lower case). */
  readonly headerName: string;
  /** The configured form field name. */
  readonly fieldName: string;
}

const optionKeys = [
  'keyRing',
  'trustedOrigins',
  'headerName',
  'fieldName',
  'exempt',
  'allowSameSite',
  'maxAgeSeconds',
  'maxFormBytes',
  'maxMultipartBytes',
  'cryptoEngine',
  'now',
  'randomBytes',
  'logger',
  'onEvent',
];

/**
 * @internal Token issuing without a promise where the MAC engine signs synchronously
 * (`node:crypto`): a request pipeline then issues tokens lazily, only for pages that render one.
 */
export interface ImmediateTokenIssuer {
  /** A token now, or `undefined` when the engine cannot sign synchronously (then use `issueToken`). */
  issueNow(sessionId: string): string | undefined;
  /** The same for an anonymous CSRF cookie's id (then use `issueAnonymousToken`). */
  issueAnonymousNow(anonymousId: string): string | undefined;
  /** True when {@link ImmediateTokenIssuer.issueNow} returns tokens. */
  readonly synchronous: boolean;
}

const immediateIssuers = new WeakMap<CsrfProtection, ImmediateTokenIssuer>();

/**
 * @internal The immediate issuer of a protection made by {@link createCsrfProtection}.
 *
 * @throws `ERR_CONFIG_INVALID` for any other object
 */
export function immediateTokenIssuerOf(protection: CsrfProtection): ImmediateTokenIssuer {
  const issuer = immediateIssuers.get(protection);
  if (issuer === undefined) throw configError('This CSRF protection was not made by createCsrfProtection().');
  return issuer;
}

const safeMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const maxReportedPathLength = 200;

/**
 * True for methods that must not change state: GET, HEAD, OPTIONS, in any letter case.
 * Every other method, including unknown ones and a lowercase `patch`, is unsafe.
 *
 * @example
 * ```ts
 * isSafeMethod('get'); // true
 * isSafeMethod('patch'); // false
 * ```
 */
export function isSafeMethod(method: string): boolean {
  // Requests almost always spell the method in capitals: skip the case folding for them.
  return method === 'GET' || safeMethods.has(method.toUpperCase());
}

function resolveTrustedOrigins(value: unknown, where: string): ReadonlySet<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) throw configError(`${where}: "trustedOrigins" must be a list of origins.`);
  return new Set(
    value.map((origin: unknown, index) => {
      let parsed: URL | undefined;
      try {
        parsed = typeof origin === 'string' ? new URL(origin) : undefined;
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined || parsed.origin === 'null' || parsed.origin !== origin) {
        throw configError(
          `${where}: trustedOrigins[${index}] (${typeof origin === 'string' ? JSON.stringify(origin) : describeValue(origin)}) is not an origin.`,
          'Write it exactly as browsers send it: scheme://host[:port], lower case, no path or trailing slash.',
        );
      }
      return origin as string;
    }),
  );
}

/** The binding of an anonymous id, refusing an empty one as the codec refuses an empty session id. */
function anonymousBindingOf(anonymousId: string): string {
  if (typeof anonymousId !== 'string' || anonymousId.length === 0) {
    throw configError('A CSRF token needs an anonymous id.', 'Pass the id of the anonymous CSRF cookie.');
  }
  return anonymousBinding(anonymousId);
}

function originOfUrl(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * Creates CSRF protection. Options are validated and the key is derived once.
 *
 * @throws `ERR_CONFIG_INVALID` for unknown or malformed options
 *
 * @example
 * ```ts
 * const keyRing = createKeyRing(process.env.SESSION_SECRET!);
 * const csrf = createCsrfProtection({ keyRing, exempt: ['/webhooks/**'] });
 *
 * // rendering a form
 * const token = await csrf.issueToken(session.id);
 * const html = `<form method="post">${csrf.field(token)}<button>Save</button></form>`;
 *
 * // handling any request
 * const verdict = await csrf.verifyRequest(request, { sessionId: session.id });
 * if (!verdict.ok) return new Response('Forbidden', { status: verdict.status });
 * ```
 */
export function createCsrfProtection(options: CsrfProtectionOptions): CsrfProtection {
  const where = 'createCsrfProtection()';
  assertOptionsObject(options, optionKeys, where);
  const keyRing = options?.keyRing;
  if (typeof keyRing !== 'object' || keyRing === null || typeof keyRing.derive !== 'function') {
    throw configError(
      `${where}: "keyRing" is required.`,
      'Pass the key ring shared with sessions: `keyRing: createKeyRing(process.env.SESSION_SECRET)`.',
    );
  }
  const headerName = (options.headerName ?? defaultCsrfHeaderName).toLowerCase();
  if (!isHeaderName(headerName)) throw configError(`${where}: "headerName" is not a valid HTTP header name.`);
  const fieldName = options.fieldName ?? defaultCsrfFieldName;
  if (typeof fieldName !== 'string' || fieldName.length === 0 || fieldName.length > 128) {
    throw configError(`${where}: "fieldName" must be a non-empty string of at most 128 characters.`);
  }
  const trustedOrigins = resolveTrustedOrigins(options.trustedOrigins, where);
  const isExempt = compileExempt(options.exempt, where);
  if (options.allowSameSite !== undefined && typeof options.allowSameSite !== 'boolean') {
    throw configError(`${where}: "allowSameSite" must be a boolean.`);
  }
  const allowSameSite = options.allowSameSite === true;
  const maxAgeSeconds = options.maxAgeSeconds ?? 24 * 60 * 60;
  assertNumberInRange(maxAgeSeconds, 1, 400 * 24 * 60 * 60, `${where}: maxAgeSeconds`);
  const maxFormBytes = options.maxFormBytes ?? 1024 * 1024;
  assertNumberInRange(maxFormBytes, 1, 1024 * 1024 * 1024, `${where}: maxFormBytes`);
  const maxMultipartBytes = options.maxMultipartBytes ?? 10 * 1024 * 1024;
  assertNumberInRange(maxMultipartBytes, 1, 1024 * 1024 * 1024, `${where}: maxMultipartBytes`);
  const cryptoEngine = options.cryptoEngine ?? 'auto';
  if (!['auto', 'node', 'webcrypto'].includes(cryptoEngine)) {
    throw configError(`${where}: cryptoEngine must be "auto", "node" or "webcrypto".`);
  }
  for (const hook of ['now', 'randomBytes'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') {
      throw configError(`${where}: "${hook}" must be a function.`);
    }
  }
  const codec = createCsrfTokenCodec(keyRing, {
    maxAgeSeconds,
    cryptoEngine,
    now: options.now ?? systemClock,
    randomBytes: options.randomBytes ?? secureRandomBytes,
  });
  const reporter = createReporter(options);
  const fetchScript = csrfFetchScript(headerName);

  const fail = (request: Request, path: string, reason: CsrfFailureReason, sessionId?: unknown): CsrfFailure => {
    const method = String((request as Partial<Request> | undefined)?.method ?? '').slice(0, 16);
    const reportedPath = path.slice(0, maxReportedPathLength);
    reporter.emit(
      typeof sessionId === 'string' && sessionId.length > 0
        ? { type: 'csrf.failed', reason, method, path: reportedPath, sessionId }
        : { type: 'csrf.failed', reason, method, path: reportedPath },
    );
    reporter.log('warn', 'CSRF verification failed', { reason, method, path: reportedPath });
    return reason === 'body-too-large' ? { ok: false, reason, status: 413 } : { ok: false, reason, status: 403 };
  };

  const checkHeaders = (request: Request, own: string | undefined): CsrfFailureReason | undefined => {
    const headers = request.headers;
    const origin = headers.get('origin');
    if (origin !== null && trustedOrigins.has(origin)) return undefined;
    const fetchSite = headers.get('sec-fetch-site');
    if (fetchSite !== null) {
      const site = fetchSite.trim().toLowerCase();
      if (site === 'same-origin' || site === 'none') return undefined;
      if (site === 'same-site' && allowSameSite) return undefined;
      return 'fetch-site';
    }
    if (origin !== null) return origin === own ? undefined : 'origin';
    const referer = headers.get('referer');
    if (referer === null) return undefined;
    const refererOrigin = originOfUrl(referer);
    return refererOrigin !== undefined && (refererOrigin === own || trustedOrigins.has(refererOrigin))
      ? undefined
      : 'origin';
  };

  const verifyRequest = async (request: Request, input: VerifyRequestOptions): Promise<CsrfVerdict> => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return fail(request, '', 'origin');
    }
    const method = request.method;
    if (isSafeMethod(method)) return { ok: true };
    const path = typeof input?.path === 'string' ? input.path : url.pathname;
    if (isExempt(path, request)) return { ok: true };
    const own = typeof input?.origin === 'string' ? originOfUrl(input.origin) : originOfUrl(url.href);
    const sessionId = input?.sessionId;
    const headerFailure = checkHeaders(request, own);
    if (headerFailure !== undefined) return fail(request, url.pathname, headerFailure, sessionId);
    if (input?.requireToken === false) return { ok: true };
    const hasSession = typeof sessionId === 'string' && sessionId.length > 0;
    const anonymousId = input?.anonymousId;
    const hasAnonymous = typeof anonymousId === 'string' && anonymousId.length > 0;
    if (!hasSession && !hasAnonymous) return fail(request, url.pathname, 'no-session');

    let token = request.headers.get(headerName);
    if (token === null) {
      const mediaType = mediaTypeOf(request.headers.get('content-type'));
      if (isFormMediaType(mediaType)) {
        const limit = mediaType === 'multipart/form-data' ? maxMultipartBytes : maxFormBytes;
        const found = await readFormToken(request, mediaType, fieldName, limit);
        if (found.kind === 'too-large') return fail(request, url.pathname, 'body-too-large', sessionId);
        if (found.kind === 'found') token = found.token;
      }
    }
    if (token === null || token.length === 0) return fail(request, url.pathname, 'missing-token', sessionId);
    if (hasSession && (await codec.verify(token, sessionId)).ok) return { ok: true };
    if (hasAnonymous && (await codec.verify(token, anonymousBinding(anonymousId))).ok) return { ok: true };
    return fail(request, url.pathname, 'bad-token', sessionId);
  };

  const protection: CsrfProtection = {
    issueToken: (sessionId) => codec.issue(sessionId),
    issueAnonymousToken: (anonymousId) => codec.issue(anonymousBindingOf(anonymousId)),
    verifyToken: (token, sessionId) => codec.verify(token, sessionId),
    async verifyRequest(request, input) {
      try {
        return await verifyRequest(request, input);
      } catch (error) {
        // Defensive: nothing above is expected to throw; fail closed if it ever does.
        reporter.log('error', 'CSRF verification threw', { error: String(error) });
        return fail(request, '', 'bad-token');
      }
    },
    isExempt,
    field: (token) => csrfField(token, fieldName),
    meta: (token) => csrfMeta(token),
    headers: (token) => csrfHeaders(token, headerName),
    fetchScript,
    headerName,
    fieldName,
  };
  immediateIssuers.set(protection, {
    issueNow: (sessionId) => codec.issueSync(sessionId),
    issueAnonymousNow: (anonymousId) => codec.issueSync(anonymousBindingOf(anonymousId)),
    get synchronous() {
      return codec.synchronous;
    },
  });
  return protection;
}
