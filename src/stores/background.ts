/**
 * A store's detached work (sweeps, deletions retried later): it never runs inside a request's
 * store call, its failure is logged and never thrown, its timers never keep the process alive,
 * and `stop()` (from the store's `dispose()`) cancels its waits and resolves once it is done.
 *
 * @module
 */
import type { Reporter } from '../core/events.ts';

/** The detached work of one store. */
export interface BackgroundWork {
  /** True once {@link BackgroundWork.stop} was called: loops should end. */
  readonly stopped: boolean;
  /**
   * Runs `task` detached, after the current call returns. A failure is logged as `what`, with
   * the store's name; nothing is thrown. Ignored once stopped.
   */
  start(what: string, task: () => Promise<void>): void;
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
  let stopped = false;

  return {
    get stopped() {
      return stopped;
    },
    start(what, task) {
      if (stopped) return;
      const done: Promise<void> = new Promise<void>((resolve) => setTimeout(resolve, 0))
        .then(() => (stopped ? undefined : task()))
        .catch((error: unknown) => {
          reporter.log('error', `${store} store: ${what} failed`, {
            store,
            error: error instanceof Error ? error.message : String(error),
          });
        })
        .finally(() => running.delete(done));
      running.add(done);
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
}
