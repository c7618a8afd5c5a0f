/**
 * A store's detached work (sweeps, deletions retried later): it never runs inside a request's
 * store call, its failure is logged and never thrown, its timers never keep the process alive,
 * and `stop()` (from the store's `dispose()`) cancels its waits and resolves once it is done.
 *
 * @module
 */
import type { Reporter } from '../core/events.ts';

/** Keys retried at once, at most. */
const maxRetrying = 10_000;
const firstRetryPauseMs = 250;
const maxRetryPauseMs = 30_000;

/** The detached work of one store. */
export interface BackgroundWork {
  /** True once {@link BackgroundWork.stop} was called: loops should end. */
  readonly stopped: boolean;
  /**
   * Runs `task` detached, after the current call returns. A failure is logged as `what`, with
   * the store's name; nothing is thrown. Ignored once stopped.
   */
  start(what: string, task: () => Promise<void>): void;
  /**
   * Runs `task` detached until it succeeds, because of `failure` (what went wrong in the
   * request, logged now with `what`): first after 250 ms, then twice as long after each failure, at most
   * 30 s apart; it ends when stopped. A `key` already being retried is not added twice, and at
   * most 10 000 keys are retried at once (beyond that the task is dropped, with a log line).
   */
  retry(key: string, what: string, failure: unknown, task: () => Promise<void>): void;
  /** Resolves after `ms` milliseconds, or at once when stopped (the timer does not hold the process open). */
  pause(ms: number): Promise<void>;
  /** Stops: ends every pause now and resolves when every running task has finished. */
  stop(): Promise<void>;
}

/**
 * Creates the detached-work runner of one store.
 *
 * @example
 * ```ts
 * const background = createBackgroundWork('sqlite', reporter);
 * background.start('sweep of expired sessions', () => sweepInBatches());
 * await background.stop(); // in dispose()
 * ```
 */
export function createBackgroundWork(store: string, reporter: Reporter): BackgroundWork {
  const running = new Set<Promise<void>>();
  const pauses = new Map<ReturnType<typeof setTimeout>, () => void>();
  const retrying = new Set<string>();
  let stopped = false;
  const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

  const work: BackgroundWork = {
    get stopped() {
      return stopped;
    },
    start(what, task) {
      if (stopped) return;
      const done: Promise<void> = new Promise<void>((resolve) => setTimeout(resolve, 0))
        .then(() => (stopped ? undefined : task()))
        .catch((error: unknown) => {
          reporter.log('error', `${store} store: ${what} failed`, { store, error: messageOf(error) });
        })
        .finally(() => running.delete(done));
      running.add(done);
    },
    retry(key, what, failure, task) {
      if (stopped || retrying.has(key)) return;
      if (retrying.size >= maxRetrying) {
        reporter.log('error', `${store} store: too much background work waiting; ${what} is dropped`, { store });
        return;
      }
      reporter.log('warn', `${store} store: ${what} is left to the background`, {
        store,
        error: messageOf(failure),
      });
      retrying.add(key);
      work.start(what, async () => {
        try {
          for (let attempt = 0; !stopped; attempt++) {
            await work.pause(Math.min(maxRetryPauseMs, firstRetryPauseMs * 2 ** attempt));
            if (stopped) return;
            try {
              await task();
              return;
            } catch {
              // Logged once, above; tried again after a longer pause.
            }
          }
        } finally {
          retrying.delete(key);
        }
      });
    },
    pause(ms) {
      if (stopped) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pauses.delete(timer);
          resolve();
        }, ms);
        (timer as { unref?: () => void }).unref?.();
        pauses.set(timer, resolve);
      });
    },
    async stop() {
      stopped = true;
      for (const [timer, resolve] of pauses) {
        clearTimeout(timer);
        resolve();
      }
      pauses.clear();
      while (running.size > 0) await Promise.all(running);
    },
  };
  return work;
}
