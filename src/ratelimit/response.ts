/**
 * The HTTP answer to a refused login attempt.
 *
 * @module
 */

/**
 * A `429 Too Many Requests` response with `Retry-After` (whole seconds, at least 1) and a JSON
 * body `{ error: { code: 'ERR_RATE_LIMITED', message, retryAfterSeconds } }`; `no-store` so no cache keeps it.
 *
 * @param retryAfterSeconds - from a refused `check()`; rounded up, at least 1
 *
 * @example
 * ```ts
 * const verdict = await limiter.check({ account: email, address: context.clientAddress });
 * if (!verdict.ok) return tooManyRequests(verdict.retryAfterSeconds);
 * ```
 */
export function tooManyRequests(retryAfterSeconds: number): Response {
  const seconds = Number.isFinite(retryAfterSeconds) ? Math.max(1, Math.ceil(retryAfterSeconds)) : 1;
  const body = {
    error: { code: 'ERR_RATE_LIMITED', message: 'Too many attempts. Try again later.', retryAfterSeconds: seconds },
  };
  return new Response(JSON.stringify(body), {
    status: 429,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'retry-after': String(seconds),
      'cache-control': 'no-store',
    },
  });
}
