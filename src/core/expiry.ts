/**
 * Expiry policy: an absolute lifetime from sign-in, an idle timeout, and throttled renewal.
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
}

/** Resolved expiry policy. */
export interface ExpiryPolicy {
  readonly absoluteTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
  readonly renewAfterSeconds: number;
}

/** Defaults of {@link ExpiryOptions}. */
export const defaultExpiry = Object.freeze({
  absoluteTimeoutSeconds: 7 * 24 * 60 * 60,
  idleTimeoutSeconds: 24 * 60 * 60,
  renewAfterFraction: 0.1,
});

const maxSeconds = 400 * 24 * 60 * 60; // browsers cap cookie lifetimes at 400 days

/** Validates {@link ExpiryOptions} and fills defaults. Throws `ERR_CONFIG_INVALID`. */
export function resolveExpiry(options: ExpiryOptions | undefined, where: string): ExpiryPolicy {
  assertOptionsObject(
    options,
    ['absoluteTimeoutSeconds', 'idleTimeoutSeconds', 'renewAfterFraction'],
    `${where} expiry`,
  );
  const absolute = options?.absoluteTimeoutSeconds ?? defaultExpiry.absoluteTimeoutSeconds;
  const idle = options?.idleTimeoutSeconds ?? Math.min(defaultExpiry.idleTimeoutSeconds, absolute);
  const fraction = options?.renewAfterFraction ?? defaultExpiry.renewAfterFraction;
  assertNumberInRange(absolute, 1, maxSeconds, `${where}: expiry.absoluteTimeoutSeconds`);
  assertNumberInRange(idle, 1, maxSeconds, `${where}: expiry.idleTimeoutSeconds`);
  assertNumberInRange(fraction, 0, 1, `${where}: expiry.renewAfterFraction`);
  if (idle > absolute) {
    throw configError(
      `${where}: expiry.idleTimeoutSeconds (${idle}) is longer than expiry.absoluteTimeoutSeconds (${absolute}).`,
      'The idle timeout must fit inside the absolute lifetime.',
    );
  }
  return { absoluteTimeoutSeconds: absolute, idleTimeoutSeconds: idle, renewAfterSeconds: Math.floor(idle * fraction) };
}

/** The expiry of a record renewed at `renewedAt` and issued at `createdAt`. */
export function computeExpiresAt(policy: ExpiryPolicy, createdAt: number, renewedAt: number): number {
  return Math.min(createdAt + policy.absoluteTimeoutSeconds, renewedAt + policy.idleTimeoutSeconds);
}

/**
 * True when a record is still valid at `now` under both its own sealed expiry and the
 * current policy (a policy shortened after issue takes effect at once).
 */
export function isLive(
  policy: ExpiryPolicy,
  record: { createdAt: number; renewedAt: number; expiresAt: number },
  now: number,
): boolean {
  return now < record.expiresAt && now < computeExpiresAt(policy, record.createdAt, record.renewedAt);
}

/** True when an unchanged record is due for rolling renewal. */
export function isRenewalDue(policy: ExpiryPolicy, renewedAt: number, now: number): boolean {
  return now - renewedAt >= policy.renewAfterSeconds;
}
