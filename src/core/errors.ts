/**
 * Every error sessionkit throws is a {@link SessionKitError} with a stable `code`.
 * Match on `error.code`, never on the message text.
 *
 * Expected outcomes of a request (no cookie, an expired cookie, a tampered cookie) are
 * never thrown: they come back as values from `load()` / `getSession()`.
 *
 * @module
 */

/**
 * The stable codes of {@link SessionKitError}.
 *
 * - `ERR_CONFIG_INVALID`: an option is missing, malformed, or unknown (thrown at construction).
 * - `ERR_SECRET_WEAK`: a secret is too short, a known default, or looks non-random.
 * - `ERR_COOKIE_TOO_LARGE`: the sealed session does not fit the cookie size budget.
 * - `ERR_SESSION_DESTROYED`: a destroyed session handle was written to.
 * - `ERR_SESSION_INVALID`: session data (or a `ttl`) given to `setSession` / `updateSession` is malformed.
 * - `ERR_STORE_UNAVAILABLE`: the session store could not be reached (fail closed).
 * - `ERR_UNAUTHENTICATED`: a session was required but the request has none (HTTP 401).
 * - `ERR_FORBIDDEN`: the session lacks the role or permission required (HTTP 403).
 * - `ERR_CSRF`: the request failed CSRF verification (HTTP 403; the code in CSRF refusal bodies).
 * - `ERR_NO_CONTEXT`: a request-scoped helper was called outside a request.
 * - `ERR_RATE_LIMITED`: too many attempts (HTTP 429; the code in `tooManyRequests()` bodies).
 * - `ERR_BAD_REQUEST`: the request path cannot be interpreted safely (HTTP 400; guard deny bodies).
 */
export type SessionKitErrorCode =
  | 'ERR_CONFIG_INVALID'
  | 'ERR_SECRET_WEAK'
  | 'ERR_COOKIE_TOO_LARGE'
  | 'ERR_SESSION_DESTROYED'
  | 'ERR_SESSION_INVALID'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_UNAUTHENTICATED'
  | 'ERR_FORBIDDEN'
  | 'ERR_CSRF'
  | 'ERR_NO_CONTEXT'
  | 'ERR_RATE_LIMITED'
  | 'ERR_BAD_REQUEST';

const httpStatusByCode: Partial<Record<SessionKitErrorCode, number>> = {
  ERR_STORE_UNAVAILABLE: 503,
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN: 403,
  ERR_CSRF: 403,
  ERR_RATE_LIMITED: 429,
  ERR_BAD_REQUEST: 400,
};

/**
 * What `revokeUserSessions()` did before it failed, on its `ERR_STORE_UNAVAILABLE` error
 * (`error.revocation`).
 */
export interface PartialRevocation {
  /** The sessions this call revoked before the failure: they are signed out. */
  readonly revokedSessionIds: readonly string[];
  /** Always false: other sessions of the user may still be live. Calling again is safe and revokes the rest. */
  readonly complete: false;
}

/** Options of the {@link SessionKitError} constructor. */
export interface SessionKitErrorOptions {
  /** What to do about it, shown after the message. */
  hint?: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /** A revocation that failed part-way: what it did. */
  revocation?: PartialRevocation;
}

/**
 * The single error class of sessionkit.
 *
 * @example
 * ```ts
 * try {
 *   createCookieSessionStorage({ cookie: { secrets: ['short'] } });
 * } catch (error) {
 *   if (error instanceof SessionKitError && error.code === 'ERR_SECRET_WEAK') {
 *     console.error(error.hint);
 *   }
 * }
 * ```
 */
export class SessionKitError extends Error {
  /** Stable machine-readable code. */
  readonly code: SessionKitErrorCode;
  /** A suggestion of how to fix the problem, when there is one. */
  readonly hint: string | undefined;
  /** The HTTP status this error maps to when it escapes into a response (500 when none). */
  readonly status: number;
  /** On `ERR_STORE_UNAVAILABLE` from `revokeUserSessions()`: what it revoked before failing. */
  readonly revocation: PartialRevocation | undefined;

  constructor(code: SessionKitErrorCode, message: string, options: SessionKitErrorOptions = {}) {
    super(options.hint ? `${message}\nHint: ${options.hint}` : message, { cause: options.cause });
    this.name = 'SessionKitError';
    this.code = code;
    this.hint = options.hint;
    this.status = httpStatusByCode[code] ?? 500;
    this.revocation = options.revocation;
  }
}

/**
 * True when `value` is a {@link SessionKitError}, optionally with the given code.
 * Works across duplicated copies of the package (checks the name and code, not the prototype).
 */
export function isSessionKitError(value: unknown, code?: SessionKitErrorCode): value is SessionKitError {
  if (!(value instanceof Error) || value.name !== 'SessionKitError') return false;
  return code === undefined || (value as SessionKitError).code === code;
}

/** Shorthand for a configuration error, thrown at construction. */
export function configError(message: string, hint?: string): SessionKitError {
  return new SessionKitError('ERR_CONFIG_INVALID', message, { hint });
}
