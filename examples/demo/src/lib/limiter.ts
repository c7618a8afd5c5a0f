/**
 * Sign-in rate limits, after rate-limiter-flexible's login-protection pattern:
 * - 5 failed attempts of one account from one client address, then that pair waits 15 minutes
 *   (the owner's successful sign-in resets it). A stranger elsewhere cannot use it up.
 * - 100 failed attempts from one client address in a day, whatever the account, then that
 *   address waits a day.
 * - 300 failed attempts of one account from all addresses together in a day, then the account
 *   waits an hour: against a guess spread over many addresses. One address alone cannot reach
 *   it (at most 200 in a day, see docs/rate-limiting.md), so a stranger cannot lock anyone out.
 * Counters live in this process's memory; several instances behind a load balancer would pass
 * `store: { redis }` instead.
 */
import { createLoginLimiter } from 'sessionkit/ratelimit';

const day = 24 * 60 * 60;

export const loginLimiter = createLoginLimiter({
  perAccountAndAddress: { points: 5, durationSeconds: day, blockSeconds: 15 * 60 },
  perAddress: { points: 100, durationSeconds: day, blockSeconds: day },
  perAccount: { points: 300, durationSeconds: day, blockSeconds: 60 * 60 },
});
