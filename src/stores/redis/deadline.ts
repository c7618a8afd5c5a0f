/**
 * The Redis store's overall time limit per operation, and the count of operations in flight
 * that `dispose()` waits for. A client's own `commandTimeout` bounds one command; an operation
 * may send several (a listing, a revocation), and an ioredis `Cluster` retries a command for
 * seconds while a shard fails over. The limit bounds what the caller waits for all of it.
 *
 * @module
 */

/** The deadline of one running operation. */
export interface Deadline {
  /** Settles like `step`, or rejects when the operation's time is up, whichever is first. */
  within<T>(step: Promise<T>): Promise<T>;
}

/** Runs operations under a deadline and tracks them. */
export interface OperationRunner {
  /**
   * Runs `body` with a deadline `timeoutMs` from now. The body passes each of its steps through
   * `deadline.within`, so it stops at the first step that outlives the deadline (and can still
   * report what its finished steps did).
   */
  run<T>(operation: string, body: (deadline: Deadline) => Promise<T>): Promise<T>;
  /** {@link run} for an operation of one command (the read path): `map` turns its reply into the result. */
  single<R, T>(operation: string, command: () => Promise<R>, map: (reply: R) => T): Promise<T>;
  /** Refuses new operations and resolves once the running ones have settled (each within its deadline). */
  dispose(): Promise<void>;
}

/** Thrown when an operation ran out of time; the command may still reach Redis later. */
export class OperationTimeout extends Error {
  constructor(where: string, operation: string, timeoutMs: number) {
    super(
      `${where}: ${operation} did not finish within ${timeoutMs} ms (operationTimeoutMs); Redis may still apply it.`,
    );
    this.name = 'OperationTimeout';
  }
}

const ignore = (): void => {};

/**
 * Creates an {@link OperationRunner}.
 *
 * @example
 * ```ts
 * const operations = createOperationRunner(1000, 'redisStore()', (error) => error);
 * const text = await operations.run('get', (deadline) => deadline.within(client.get(key)));
 * ```
 *
 * @param mapError - turns a failure into the error the caller sees (e.g. one that names the fix)
 */
export function createOperationRunner(
  timeoutMs: number,
  where: string,
  mapError: (error: unknown) => unknown,
): OperationRunner {
  let running = 0;
  let disposed = false;
  let drained: (() => void) | undefined;

  const closed = (operation: string) =>
    Promise.reject(new Error(`${where}: ${operation} after dispose(): the store is closed.`));
  const finished = () => {
    running--;
    if (running === 0) drained?.();
  };

  return {
    run(operation, body) {
      if (disposed) return closed(operation);
      running++;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new OperationTimeout(where, operation, timeoutMs)), timeoutMs);
      });
      expired.catch(ignore);
      const deadline: Deadline = { within: (step) => Promise.race([step, expired]) };
      let result: Promise<unknown>;
      try {
        result = body(deadline);
      } catch (error) {
        result = Promise.reject(error);
      }
      const finish = () => {
        clearTimeout(timer);
        finished();
      };
      return result.then(
        (value) => {
          finish();
          return value as never;
        },
        (error: unknown) => {
          finish();
          throw mapError(error);
        },
      );
    },

    single<R, T>(operation: string, command: () => Promise<R>, map: (reply: R) => T): Promise<T> {
      if (disposed) return closed(operation);
      running++;
      // One promise and one timer, no race: this is every request's path.
      return new Promise((resolve, reject) => {
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          finished();
          reject(mapError(new OperationTimeout(where, operation, timeoutMs)));
        }, timeoutMs);
        const settle = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          finished();
          outcome();
        };
        let pending: Promise<R>;
        try {
          pending = command();
        } catch (error) {
          pending = Promise.reject(error);
        }
        pending.then(
          (reply) =>
            settle(() => {
              try {
                resolve(map(reply));
              } catch (error) {
                reject(mapError(error));
              }
            }),
          (error: unknown) => settle(() => reject(mapError(error))),
        );
      });
    },

    dispose() {
      disposed = true;
      if (running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        drained = resolve;
      });
    },
  };
}
