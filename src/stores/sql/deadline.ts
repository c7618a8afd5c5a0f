/**
 * The bound of one SQL store call: every call of `sqliteStore` and `postgresStore` gets a
 * deadline `timeoutMs` after it starts, and fails (the request then gets 503) rather than wait
 * past it.
 *
 * @module
 */

/** The default bound of one store call, in milliseconds. */
export const defaultTimeoutMs = 2000;

/** When one store call must be done, on the monotonic clock (`performance.now()`). */
export interface Deadline {
  /** The deadline, in `performance.now()` milliseconds. */
  readonly at: number;
  /** The bound it was made from (for messages). */
  readonly timeoutMs: number;
  /** Milliseconds left (0 once passed). */
  remainingMs(): number;
}

/**
 * A deadline `timeoutMs` from now.
 *
 * @example
 * ```ts
 * const deadline = deadlineAfter(2000);
 * if (deadline.remainingMs() === 0) throw new StoreTimeoutError(...);
 * ```
 */
export function deadlineAfter(timeoutMs: number): Deadline {
  const at = performance.now() + timeoutMs;
  return { at, timeoutMs, remainingMs: () => Math.max(0, at - performance.now()) };
}

/**
 * Runs `run` after the I/O already received is read (setImmediate; a zero timeout where there is
 * none): a timer that fires as an answer arrives lets the answer win.
 */
export const afterPendingIo: (run: () => void) => void =
  typeof setImmediate === 'function' ? (run) => setImmediate(run) : (run) => setTimeout(run, 0);

/** A store call that reached its deadline. `error.cause` holds the last engine error, if any. */
export class StoreTimeoutError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreTimeoutError';
  }
}
