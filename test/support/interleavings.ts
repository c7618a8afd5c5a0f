/**
 * Exploring interleavings on purpose. A store under test is given a {@link Gate} that each of its
 * engine calls (a Redis command, a storage item read, a store method) passes before it runs:
 *
 * - {@link randomDelayGate} holds each call for a random, seeded number of macrotask turns, so
 *   hundreds of concurrent operations interleave their steps differently on every call;
 * - {@link scheduledGate} parks each call until the driver releases it: the driver waits until
 *   no gated call is running (every operation is parked or finished), then lets fast-check's
 *   scheduler pick the one call that goes next. Every step of every operation is then an explicit
 *   scheduling decision, reproducible from fast-check's seed and shrunk on failure.
 */
import type fc from 'fast-check';

/** What a store's engine calls pass through. */
export interface Gate {
  /** Runs one engine call once the gate lets it through. */
  pass<T>(run: () => Promise<T>): Promise<T>;
}

/** A gate that lets everything through at once (the store unchanged). */
export const openGate: Gate = { pass: (run) => run() };

/**
 * Wraps an object so that calls to the named methods pass `gate` first. The result is a Proxy:
 * every other property (status, events, ...) is the target's own.
 *
 * @example
 * ```ts
 * const slowClient = gateMethods(client, ['get', 'evalsha', 'eval'], gate);
 * ```
 */
export function gateMethods<T extends object>(target: T, methods: readonly string[], gate: Gate): T {
  const gated = new Set(methods);
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof property !== 'string' || !gated.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        gate.pass(() => (value as (...a: unknown[]) => Promise<unknown>).apply(object, args));
    },
  });
}

/** A small seeded PRNG (mulberry32): the same seed gives the same delays. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Holds each call for 0 to `maxTurns` macrotask turns (uniform, from `random`): a turn lets
 * other operations' I/O complete, so the steps of concurrent operations interleave.
 */
export function randomDelayGate(random: () => number, maxTurns = 6): Gate {
  return {
    async pass(run) {
      const turns = Math.floor(random() * (maxTurns + 1));
      for (let turn = 0; turn < turns; turn++) await nextTurn();
      return run();
    },
  };
}

/** A gate driven by fast-check's scheduler, with the driver that releases it. */
export interface ScheduledGate extends Gate {
  /**
   * Runs `work` to completion, releasing one parked call at a time: each time no gated call is
   * running, fast-check picks which parked call goes next. Resolves with each operation's outcome.
   */
  drive<T>(work: readonly Promise<T>[]): Promise<PromiseSettledResult<T>[]>;
}

/**
 * A gate whose calls wait for fast-check's scheduler `s` (from `fc.scheduler()`).
 *
 * @example
 * ```ts
 * fc.asyncProperty(fc.scheduler(), async (s) => {
 *   const gate = scheduledGate(s);
 *   const outcomes = await gate.drive([signIn(gatedStore(gate)), revokeAll(gatedStore(gate))]);
 * });
 * ```
 */
export function scheduledGate(s: fc.Scheduler): ScheduledGate {
  let running = 0;
  return {
    async pass(run) {
      await s.schedule(Promise.resolve(), 'engine call');
      running++;
      try {
        return await run();
      } finally {
        running--;
      }
    },
    async drive(work) {
      let settled = false;
      const outcomes = Promise.allSettled(work).then((results) => {
        settled = true;
        return results;
      });
      while (!settled) {
        // Quiescent: no gated call in flight for two turns, so every operation is parked or done.
        let quietTurns = 0;
        while (!settled && quietTurns < 2) {
          await nextTurn();
          quietTurns = running === 0 ? quietTurns + 1 : 0;
        }
        if (!settled && s.count() > 0) await s.waitNext(1);
      }
      return outcomes;
    },
  };
}
