/**
 * `sessionkit/ratelimit`: login abuse limits on `rate-limiter-flexible`, in memory or in Redis:
 * per account and client address (the low limit, which nobody else can use up), per account
 * from every address (a much higher one), and per address. Account and address keys are
 * hashed, so no email address or IP is stored in clear. Requires the optional peer dependency
 * `rate-limiter-flexible` (and your own ioredis client for Redis).
 *
 * @example
 * ```ts
 * import { createLoginLimiter, tooManyRequests } from 'sessionkit/ratelimit';
 *
 * const limiter = createLoginLimiter({
 *   perAccountAndAddress: { points: 5, durationSeconds: 86400, blockSeconds: 900 },
 *   perAccount: { points: 300, durationSeconds: 86400, blockSeconds: 3600 },
 *   perAddress: { points: 100, durationSeconds: 86400, blockSeconds: 86400 },
 * });
 * const verdict = await limiter.check({ account: email, address: context.clientAddress });
 * if (!verdict.ok) return tooManyRequests(verdict.retryAfterSeconds);
 * ```
 *
 * @module
 */
export {
  createKeyHasher,
  type KeyHasher,
  type KeyKind,
  normalizeAccount,
  normalizeAddress,
} from './keys.ts';
export {
  createLoginLimiter,
  type LoginAttempt,
  type LoginCheck,
  type LoginLimiter,
  type LoginLimiterOptions,
  type LoginLimiterStore,
  type LoginLimitRule,
  type RedisClientLike,
} from './login.ts';
export { tooManyRequests } from './response.ts';
