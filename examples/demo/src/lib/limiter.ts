/**
 * Sign-in rate limits: 5 failed attempts per account per 15 minutes (then 15 minutes blocked),
 * 20 failed attempts per client address per 15 minutes. Counters live in this process's memory;
 * several instances behind a load balancer would pass `store: { redis }` instead.
 */
import { createLoginLimiter } from 'sessionkit/ratelimit';

export const loginLimiter = createLoginLimiter({
  perAccount: { points: 5, durationSeconds: 15 * 60, blockSeconds: 15 * 60 },
  perAddress: { points: 20, durationSeconds: 15 * 60 },
});
