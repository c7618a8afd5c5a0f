/**
 * `sessionkit/csrf`: framework-agnostic CSRF protection for any Web `Request`.
 *
 * Unsafe requests (every method but GET, HEAD and OPTIONS) must pass an `Origin` /
 * `Sec-Fetch-Site` check and carry a token bound to the session: in the `x-csrf-token` header
 * or, for HTML forms, the `csrf_token` field. Tokens are HMAC-SHA256 over the session id with a
 * purpose-bound subkey of the session key ring, verified in constant time. Imports nothing
 * from Astro.
 *
 * @example
 * ```ts
 * import { createKeyRing } from 'sessionkit';
 * import { createCsrfProtection } from 'sessionkit/csrf';
 *
 * const csrf = createCsrfProtection({ keyRing: createKeyRing(process.env.SESSION_SECRET!) });
 * const verdict = await csrf.verifyRequest(request, { sessionId: session.id });
 * if (!verdict.ok) return csrfFailureResponse(verdict);
 * ```
 *
 * @module
 */
export type { CsrfExemptOption, CsrfExemptPredicate } from './exempt.ts';
export {
  csrfFetchScript,
  csrfField,
  csrfHeaders,
  csrfMeta,
  csrfMetaName,
  defaultCsrfFieldName,
  defaultCsrfHeaderName,
} from './html.ts';
export {
  type CsrfFailure,
  type CsrfFailureReason,
  type CsrfProtection,
  type CsrfProtectionOptions,
  type CsrfVerdict,
  createCsrfProtection,
  isSafeMethod,
  type VerifyRequestOptions,
} from './protection.ts';
export { csrfFailureResponse } from './response.ts';
export { type CsrfTokenCheck, type CsrfTokenFailure, csrfTokenLength, csrfTokenPrefix } from './token.ts';
