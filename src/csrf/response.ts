/**
 * The HTTP answer to a failed CSRF check.
 *
 * @module
 */
import type { CsrfFailure } from './protection.ts';

/**
 * A `403` (or `413` for an oversized form) JSON response for a failed verification. The body
 * names the reason (never the token), so a developer can tell a missing token from a
 * cross-site request; it is `no-store` so no cache keeps it.
 *
 * @example
 * ```ts
 * const verdict = await csrf.verifyRequest(request, { sessionId });
 * if (!verdict.ok) return csrfFailureResponse(verdict);
 * ```
 */
export function csrfFailureResponse(failure: CsrfFailure): Response {
  const message = failure.status === 413 ? 'The form is too large.' : 'CSRF verification failed.';
  return new Response(JSON.stringify({ error: { code: 'ERR_CSRF', message, reason: failure.reason } }), {
    status: failure.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}
