/**
 * Expiry policy: an absolute lifetime from sign-in, an idle timeout, throttled renewal, and the
 * clock-skew allowance beyond which a record dated in the future is refused.
 *
 * @module
 */
import { configError } from './errors.ts';
import { assertNumberInRange, assertOptionsObject } from './options.ts';

/** Expiry options, all in seconds except the fraction. */
export interface ExpiryOptions {
  /** Hard limit from the time the session id was issued. Default 7 days. */
  absoluteTimeoutSeconds?: number;
  /** Limit since the last renewal. Default 24 hours. */
  idleTimeoutSeconds?: number;
  /**
   * An unchanged session is re-issued (rolling renewal) only once this fraction of the idle
   * window has passed since its last renewal. Default 0.1 (renew at most every 2.4 hours with
   * the default idle timeout). 0 renews on every request.
   */
  renewAfterFraction?: number;
  /**
   * How far in the future a session's issue or renewal time may lie before the session is
   * refused (`future_dated`). It covers clocks of several servers that disagree a little;
   * a record dated further ahead would otherwise outlive its timeouts by that much. Default 60.
   */
  clockSkewSeconds?: number;
  /**
   * Whether use extends a session (rolling expiry). Default `true`: a session ends after
   * `idleTimeoutSeconds` (or its own `ttl`) without a request. `false`: requests and writes never
   * move its expiry; it ends that long after it was signed in or given a `ttl`
   * (astro-sessionkit's `touchOnRequest: false`).
   */
  rolling?: boolean;
}

/** Resolved expiry policy. */
export interface ExpiryPolicy {
  readonly absoluteTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
  readonly renewAfterSeconds: number;
  readonly clockSkewSeconds: number;
  readonly renewAfterFraction: number;
  readonly rolling: boolean;
}

/** Defaults of {@link ExpiryOptions}. */
export const defaultExpiry = Object.freeze({
  absoluteTimeoutSeconds: 7 * 24 * 60 * 60,
  idleTimeoutSeconds: 24 * 60 * 60,
  renewAfterFraction: 0.1,
  clockSkewSeconds: 60,
  rolling: true,
});

const maxSeconds = 400 * 24 * 60 * 60; // browsers cap cookie lifetimes at 400 days
const maxClockSkewSeconds = 60 * 60;

/** Validates {@link ExpiryOptions} and fills defaults. Throws `ERR_CONFIG_INVALID`. */
export function resolveExpiry(options: ExpiryOptions | undefined, where: string): ExpiryPolicy {
  assertOptionsObject(
    options,
    ['absoluteTimeoutSeconds', 'idleTimeoutSeconds', 'renewAfterFraction', 'clockSkewSeconds', 'rolling'],
    `${where} expiry`,
  );
  const absolute = options?.absoluteTimeoutSeconds ?? defaultExpiry.absoluteTimeoutSeconds;
  const idle = options?.idleTimeoutSeconds ?? Math.min(defaultExpiry.idleTimeoutSeconds, absolute);
  const fraction = options?.renewAfterFraction ?? defaultExpiry.renewAfterFraction;
  const skew = options?.clockSkewSeconds ?? defaultExpiry.clockSkewSeconds;
  const rolling = options?.rolling ?? defaultExpiry.rolling;
  if (typeof rolling !== 'boolean') throw configError(`${where}: expiry.rolling must be true or false.`);
  assertNumberInRange(absolute, 1, maxSeconds, `${where}: expiry.absoluteTimeoutSeconds`);
  assertNumberInRange(idle, 1, maxSeconds, `${where}: expiry.idleTimeoutSeconds`);
  assertNumberInRange(fraction, 0, 1, `${where}: expiry.renewAfterFraction`);
  assertNumberInRange(skew, 0, maxClockSkewSeconds, `${where}: expiry.clockSkewSeconds`);
  if (idle > absolute) {
    throw configError(
      `${where}: expiry.idleTimeoutSeconds (${idle}) is longer than expiry.absoluteTimeoutSeconds (${absolute}).`,
      'The idle timeout must fit inside the absolute lifetime.',
    );
  }
  return {
    absoluteTimeoutSeconds: absolute,
    idleTimeoutSeconds: idle,
    renewAfterSeconds: Math.floor(idle * fraction),
    clockSkewSeconds: skew,
    renewAfterFraction: fraction,
    rolling,
  };
}

/** The expiry of a record renewed at `renewedAt` and issued at `createdAt`. */
export function computeExpiresAt(policy: ExpiryPolicy, createdAt: number, renewedAt: number): number {
  return Math.min(createdAt + policy.absoluteTimeoutSeconds, renewedAt + policy.idleTimeoutSeconds);
}

/** The times of a record that decide whether it is live, in epoch seconds. */
export interface RecordTimes {
  readonly createdAt: number;
  readonly renewedAt: number;
  readonly expiresAt: number;
}

/**
 * How a record stands at `now`: `live`; `expired` (past its own sealed expiry or the current
 * policy's, so a policy shortened after issue takes effect at once); or `future_dated` (issued
 * or renewed later than `now` plus the clock-skew allowance: a cookie sealed with a date ahead,
 * or a row written by a server whose clock runs fast, which would otherwise outlive its timeouts).
 * The one place that decides liveness, for loading and for listing sessions.
 *
 * @example
 * ```ts
 * livenessOf(policy, { createdAt: now + 3600, renewedAt: now + 3600, expiresAt: now + 7200 }, now); // 'future_dated'
 * ```
 */
export function livenessOf(
  policy: ExpiryPolicy,
  record: RecordTimes,
  now: number,
): 'live' | 'expired' | 'future_dated' {
  const latestAccepted = now + policy.clockSkewSeconds;
  if (record.createdAt > latestAccepted || record.renewedAt > latestAccepted) return 'future_dated';
  const live = now < record.expiresAt && now < computeExpiresAt(policy, record.createdAt, record.renewedAt);
  return live ? 'live' : 'expired';
}

/** True when {@link livenessOf} says `live`. */
export function isLive(policy: ExpiryPolicy, record: RecordTimes, now: number): boolean {
  return livenessOf(policy, record, now) === 'live';
}

/**
 * The idle window of a loaded record: its own (a `ttl` given at sign-in), kept by every later
 * write and renewal, or the policy's idle timeout. A record carries its window as
 * `expiresAt - renewedAt`: one shorter than the idle timeout (and not cut by the absolute
 * timeout) is its own. So a shortened idle timeout applies to every session at once, and a
 * lengthened one to sessions signed in after the change.
 */
export function sessionWindowOf(policy: ExpiryPolicy, record: RecordTimes): number {
  const window = record.expiresAt - record.renewedAt;
  const cutByAbsolute = record.expiresAt >= record.createdAt + policy.absoluteTimeoutSeconds;
  return cutByAbsolute || window >= policy.idleTimeoutSeconds || window < 1 ? policy.idleTimeoutSeconds : window;
}

/** True when an unchanged record is due for rolling renewal (never when expiry is not rolling). */
export function isRenewalDue(policy: ExpiryPolicy, record: RecordTimes, now: number): boolean {
  if (!policy.rolling) return false;
  const window = sessionWindowOf(policy, record);
  const after =
    window === policy.idleTimeoutSeconds ? policy.renewAfterSeconds : Math.floor(window * policy.renewAfterFraction);
  return now - record.renewedAt >= after;
}
