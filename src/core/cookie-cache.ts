/**
 * The `cookieCache` option of sealed-cookie sessions: how many recently opened or written cookie
 * values each manager remembers, so a browser that sends the same value again costs no AES-GCM
 * operation and no JSON parse.
 *
 * @module
 */
import { configError } from './errors.ts';
import { assertOptionsObject, describeValue } from './options.ts';

/**
 * Options of the cache of opened sealed-cookie values (sealed-cookie mode only).
 *
 * A remembered value is one that authenticated (or that this process sealed); expiry is still
 * checked from its payload on every request, and every hit gets its own deep copy of the data.
 * Memory grows with `maxEntries` times (cookie value + its plaintext + the parsed payload).
 *
 * @example
 * ```ts
 * const sessions = createSessionManager({ secrets, cookieCache: { maxEntries: 10_000 } });
 * const uncached = createSessionManager({ secrets, cookieCache: { maxEntries: 0 } });
 * ```
 */
export interface CookieCacheOptions {
  /**
   * How many cookie values to remember, oldest evicted first. Default 2048;
   * `0` turns the cache off (every request with a cookie opens it with AES-GCM).
   */
  maxEntries?: number;
}

/** The default of `cookieCache.maxEntries`. */
export const defaultCookieCacheMaxEntries = 2048;

/** The largest accepted `cookieCache.maxEntries` (a bound on memory, not a recommendation). */
export const largestCookieCacheMaxEntries = 1_000_000;

/**
 * Validates the `cookieCache` option and returns its entry limit.
 *
 * @param value - the user's `cookieCache` option (`undefined` gives the default)
 * @param where - a label for messages, e.g. `createSessionManager()`
 * @throws `ERR_CONFIG_INVALID` naming `cookieCache.maxEntries`, what is wrong and what to pass
 */
export function resolveCookieCacheMaxEntries(value: unknown, where: string): number {
  assertOptionsObject(value, ['maxEntries'], `${where}: cookieCache`);
  const maxEntries = (value as CookieCacheOptions | undefined)?.maxEntries;
  if (maxEntries === undefined) return defaultCookieCacheMaxEntries;
  if (!Number.isInteger(maxEntries) || maxEntries < 0 || maxEntries > largestCookieCacheMaxEntries) {
    throw configError(
      `${where}: cookieCache.maxEntries must be a whole number from 0 to ${largestCookieCacheMaxEntries}, got ${describeValue(maxEntries)}.`,
      `Pass a count of cookie values to remember (default ${defaultCookieCacheMaxEntries}), or 0 to turn the cache off.`,
    );
  }
  return maxEntries;
}
