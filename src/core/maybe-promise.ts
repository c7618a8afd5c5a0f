/**
 * Values that may or may not be promises: the hot paths (a remembered cookie, a guard without
 * async hooks) stay synchronous and only pay for a promise when something really waits.
 *
 * @module
 */

/**
 * A value or a promise of it.
 *
 * @example
 * ```ts
 * const check: (session: GuardSession) => MaybePromise<boolean> = async (session) => session.userId === 'u_1';
 * ```
 */
export type MaybePromise<T> = T | Promise<T>;

/** @internal `next(value)`, after `value` settles when it is a promise; synchronous otherwise. */
export function mapMaybe<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/**
 * @internal Runs `run` and always answers with a promise: a value resolves it, a throw rejects it
 * (as an `async` function would, without one when `run` is synchronous).
 */
export function promiseOf<T>(run: () => MaybePromise<T>): Promise<T> {
  try {
    const result = run();
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}
