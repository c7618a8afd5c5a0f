/**
 * `sessionkit/ratelimit`: login abuse limits (per account and per client address) on
 * `rate-limiter-flexible`, in memory or in Redis. Account and address keys are hashed, so no
 * email address or IP is stored in clear. Requires the optional peer dependency
 * `rate-limiter-flexible` (and your own ioredis client for Redis).
 *
 * @example
 * ```ts
 * import { createLoginLimiter, tooManyRequests } from 'sessionkit/ratelimit';
 *
 * const limiter = createLoginLimiter({
 *   perAccount: { points: 5, durationSeconds: 900, blockSeconds: 900 },
 *   perAddress: { points: 50, durationSeconds: 3600 },
 * });
 * const verdict = await limiter.check({ account: email, address: context.clientAddress });
 * if (!verdict.ok) return tooManyRequests(verdict.retryAfterSeconds);
 * ```
 *
 * @module
 */
export { createKeyHasher, type KeyHasher, normalizeAccount, normalizeAddress } from './keys.ts';
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
