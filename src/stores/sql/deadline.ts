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

/** Runs `run` after the I/O already received is read (setImmediate; a zero timeout where there is none). */
const afterPendingIo: (run: () => void) => void =
  typeof setImmediate === 'function' ? (run) => setImmediate(run) : (run) => setTimeout(run, 0);

/** A store call that reached its deadline. `error.cause` holds the last engine error, if any. */
export class StoreTimeoutError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreTimeoutError';
  }
}

/**
 * Settles like `work`, or rejects with a {@link StoreTimeoutError} at the deadline. A result
 * that arrived just as the timer fired is still taken: the rejection waits one turn of the event
 * loop, in which the pending I/O is read. A result that comes later is handed
 * to `late` (e.g. to release a pool client) and a later rejection is ignored.
 *
 * @example
 * ```ts
 * const client = await settleBy(pool.connect(), deadline, 'a pool connection', (late) => late.release());
 * ```
 */
export function settleBy<T>(
  work: Promise<T>,
  deadline: Deadline,
  waitingFor: string,
  late?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        afterPendingIo(() => {
          if (settled) return;
          settled = true;
          reject(
            new StoreTimeoutError(
              `no answer within ${deadline.timeoutMs} ms (timeoutMs) while waiting for ${waitingFor}`,
            ),
          );
        }),
      deadline.remainingMs(),
    );
    work.then(
      (value) => {
        if (settled) {
          late?.(value);
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
