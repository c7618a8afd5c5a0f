/**
 * Login abuse limits on top of `rate-limiter-flexible`, in memory or in Redis, following its
 * documented login-protection pattern: failures of one account from one client address (the
 * low limit that stops guessing, and that nobody else can use up), failures of one account from
 * every address together (a much higher limit against a guess spread over many addresses), and
 * failures from one address whatever the account (credential stuffing from one client).
 *
 * Counting is reserve-first: {@link LoginLimiter.check} atomically counts the attempt before the
 * password is verified, so a burst of parallel guesses cannot all pass a read-only check while
 * the slow password hash runs. {@link LoginLimiter.recordSuccess} resets the account-and-address
 * pair and gives the attempt back to the other limits; {@link LoginLimiter.recordFailure} keeps
 * it and starts the block once a limit is reached. An attempt that is never recorded stays
 * counted (fail closed).
 *
 * @module
 */
import {
  type IRateLimiterOptions,
  type IRateLimiterStoreOptions,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { configError, SessionKitError } from '../core/errors.ts';
import { createReporter, type ReportingOptions } from '../core/events.ts';
import type { KeyRing } from '../core/keyring.ts';
import { assertNumberInRange, assertOptionsObject, describeValue } from '../core/options.ts';
import { createKeyHasher, type KeyKind, normalizeAccount, normalizeAddress, pairValue } from './keys.ts';

/**
 * One limit: at most `points` failed attempts per `durationSeconds`.
 *
 * @example
 * ```ts
 * const perAccountAndAddress: LoginLimitRule = { points: 5, durationSeconds: 24 * 3600, blockSeconds: 15 * 60 };
 * ```
 */
export interface LoginLimitRule {
  /** Failed attempts allowed in the window (an integer >= 1). */
  points: number;
  /** Length of the fixed window, in seconds. */
  durationSeconds: number;
  /**
   * Once the limit is reached, refuse further attempts for this long (seconds) instead of
   * until the window ends. Default: no extra block.
   */
  blockSeconds?: number;
}

/**
 * The structural shape of the Redis client (ioredis, or node-redis v4+ with
 * `useRedisPackage: true`). It is the user's client: sessionkit never creates or closes it.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis: RedisClientLike = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface RedisClientLike {
  multi(...args: never[]): unknown;
  del(...args: never[]): unknown;
}

/**
 * Where counters live: `memory` (one process) or a Redis client (shared by every instance).
 *
 * @example
 * ```ts
 * const store: LoginLimiterStore = { redis: new Redis(process.env.REDIS_URL!) };
 * ```
 */
export type LoginLimiterStore =
  | 'memory'
  | {
      /** A connected ioredis client (or node-redis v4+ with `useRedisPackage: true`). */
      redis: RedisClientLike;
      /** Set for the `redis` (node-redis) package; ioredis needs nothing. */
      useRedisPackage?: boolean;
    };

/**
 * Options of {@link createLoginLimiter}. At least one limit is required; the three together are
 * the recommended setup.
 *
 * @example
 * ```ts
 * const options: LoginLimiterOptions = {
 *   perAccountAndAddress: { points: 5, durationSeconds: 86400, blockSeconds: 900 },
 *   perAccount: { points: 300, durationSeconds: 86400, blockSeconds: 3600 },
 *   perAddress: { points: 100, durationSeconds: 86400, blockSeconds: 86400 },
 *   store: 'memory',
 * };
 * ```
 */
export interface LoginLimiterOptions extends ReportingOptions {
  /**
   * Failed attempts of one account from one client address; a success resets it. The low
   * limit: it stops guessing from one client, and a stranger elsewhere cannot use it up.
   */
  perAccountAndAddress?: LoginLimitRule;
  /**
   * Failed attempts of one account from all addresses together. Anyone who knows the account
   * name can use this limit up and lock its owner out, so set it much higher than
   * `perAccountAndAddress` (it must be higher): it is there for a guess spread over many addresses.
   */
  perAccount?: LoginLimitRule;
  /** Failed attempts from one client address, whatever the account. */
  perAddress?: LoginLimitRule;
  /** Counter storage. Default `memory` (one process only). */
  store?: LoginLimiterStore;
  /** Prefix of every store key. Default `sessionkit:login`. */
  keyPrefix?: string;
  /** When given, account and address keys are HMAC-ed with a `ratelimit` subkey instead of plain SHA-256. */
  keyRing?: KeyRing;
  /** IPv6 addresses are limited per network of this prefix length. Default 64. */
  ipv6PrefixLength?: number;
}

/**
 * The identity of one login attempt.
 *
 * @example
 * ```ts
 * const attempt: LoginAttempt = { account: form.get('email') as string, address: context.clientAddress };
 * ```
 */
export interface LoginAttempt {
  /** The account identifier as typed (normalised: NFKC, trimmed, lower-cased). */
  account: string;
  /** The client address, from a trusted source such as Astro's `context.clientAddress`. */
  address: string;
}

/**
 * The result of {@link LoginLimiter.check}.
 *
 * @example
 * ```ts
 * const verdict: LoginCheck = await limiter.check(attempt);
 * if (!verdict.ok) return tooManyRequests(verdict.retryAfterSeconds);
 * ```
 */
export type LoginCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Seconds until an attempt may be made again (>= 1). */
      readonly retryAfterSeconds: number;
      /**
       * Which limit refused the attempt (the one with the longest wait): `accountAndAddress`
       * (this account from this address), `account` (this account from everywhere) or `address`.
       */
      readonly limit: KeyKind;
    };

/**
 * Login abuse limits, from {@link createLoginLimiter}.
 *
 * @example
 * ```ts
 * if (!(await limiter.check(attempt)).ok) return tooManyRequests(60);
 * await (valid ? limiter.recordSuccess(attempt) : limiter.recordFailure(attempt));
 * ```
 */
export interface LoginLimiter {
  /**
   * Counts the attempt and says whether it may proceed. Call it before verifying the password;
   * then call exactly one of {@link recordFailure} / {@link recordSuccess}.
   *
   * @throws `ERR_STORE_UNAVAILABLE` when the store cannot be reached (fail closed)
   */
  check(attempt: LoginAttempt): Promise<LoginCheck>;
  /** The password was wrong: the attempt stays counted; reaching a limit starts its `blockSeconds`. */
  recordFailure(attempt: LoginAttempt): Promise<void>;
  /**
   * The password was right: resets the account-and-address counter and gives the attempt back
   * to the account and address counters (a guess spread over many addresses is not forgiven
   * because the owner signed in).
   */
  recordSuccess(attempt: LoginAttempt): Promise<void>;
  /**
   * Clears counters (e.g. support unlocking a user): the account's with `account`, the
   * address's with `address`, and that pair's with both.
   */
  reset(attempt: Partial<LoginAttempt>): Promise<void>;
}

type Limiter = RateLimiterMemory | RateLimiterRedis;

interface Lane {
  readonly kind: KeyKind;
  /** The option that configured it, for messages. */
  readonly option: (typeof laneOptions)[number][1];
  readonly rule: Required<LoginLimitRule>;
  readonly limiter: Limiter;
}

/** The option that configures each kind of limit, in checking order. */
const laneOptions = [
  ['accountAndAddress', 'perAccountAndAddress'],
  ['account', 'perAccount'],
  ['address', 'perAddress'],
] as const;

const optionKeys = [
  'perAccountAndAddress',
  'perAccount',
  'perAddress',
  'store',
  'keyPrefix',
  'keyRing',
  'ipv6PrefixLength',
  'logger',
  'onEvent',
];
const ruleKeys = ['points', 'durationSeconds', 'blockSeconds'];
const maxWindowSeconds = 366 * 24 * 60 * 60;

function resolveRule(value: unknown, label: string): Required<LoginLimitRule> {
  assertOptionsObject(value, ruleKeys, label);
  const rule = value as LoginLimitRule;
  assertNumberInRange(rule.points, 1, 1_000_000, `${label}.points`);
  assertNumberInRange(rule.durationSeconds, 1, maxWindowSeconds, `${label}.durationSeconds`);
  const blockSeconds = rule.blockSeconds ?? 0;
  assertNumberInRange(blockSeconds, 0, maxWindowSeconds, `${label}.blockSeconds`);
  if (!Number.isInteger(rule.points) || !Number.isInteger(rule.durationSeconds) || !Number.isInteger(blockSeconds)) {
    throw configError(`${label}: points, durationSeconds and blockSeconds must be integers.`);
  }
  return { points: rule.points, durationSeconds: rule.durationSeconds, blockSeconds };
}

function resolveStore(value: unknown, where: string): LoginLimiterStore {
  if (value === undefined || value === 'memory') return 'memory';
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    assertOptionsObject(value, ['redis', 'useRedisPackage'], `${where} store`);
    const { redis } = value as { redis?: unknown };
    if (typeof redis === 'object' && redis !== null && typeof (redis as RedisClientLike).multi === 'function') {
      return value as LoginLimiterStore;
    }
    throw configError(
      `${where}: store.redis must be a Redis client, got ${describeValue(redis)}.`,
      'Pass your ioredis client: `store: { redis: new Redis(process.env.REDIS_URL) }`.',
    );
  }
  throw configError(`${where}: "store" must be "memory" or { redis: client }.`);
}

function createLimiter(store: LoginLimiterStore, rule: Required<LoginLimitRule>, keyPrefix: string): Limiter {
  const base: IRateLimiterOptions = { points: rule.points, duration: rule.durationSeconds, keyPrefix };
  if (store === 'memory') return new RateLimiterMemory(base);
  const options: IRateLimiterStoreOptions & { useRedisPackage?: boolean } = { ...base, storeClient: store.redis };
  if (store.useRedisPackage === true) options.useRedisPackage = true;
  return new RateLimiterRedis(options);
}

/**
 * The most failed attempts one client can make under `rule` within any span of `spanSeconds`.
 * Failures may be instant; a window holds at most `points`, and the next one starts no sooner
 * than `durationSeconds` later, or `blockSeconds` when a block (which restarts the count when it
 * ends) is shorter. So at most `ceil(span / cycle)` windows start inside the span, and one more
 * (started before it) can end inside it: a span shorter than a window still meets two of them.
 */
function mostFailuresWithin(rule: Required<LoginLimitRule>, spanSeconds: number): number {
  const shortestCycle =
    rule.blockSeconds > 0 ? Math.min(rule.blockSeconds, rule.durationSeconds) : rule.durationSeconds;
  return rule.points * (Math.ceil(spanSeconds / shortestCycle) + 1);
}

/**
 * Refuses limits under which one client address, alone, could reach `perAccount` and so lock
 * the account for everybody: that address's failures on one account are capped by
 * `perAccountAndAddress` and by `perAddress`, and the cap must stay below `perAccount.points`.
 */
function assertNoLockoutFromOneAddress(lanes: readonly Lane[], where: string): void {
  const account = lanes.find((lane) => lane.kind === 'account')?.rule;
  if (account === undefined) return;
  const window = account.durationSeconds;
  const caps = lanes
    .filter((lane) => lane.kind !== 'account')
    .map((lane) => ({ option: lane.option, most: mostFailuresWithin(lane.rule, window) }));
  const example =
    'For example perAccountAndAddress: { points: 5, durationSeconds: 86400, blockSeconds: 900 }, perAccount: { points: 300, durationSeconds: 86400, blockSeconds: 3600 }, perAddress: { points: 100, durationSeconds: 86400, blockSeconds: 86400 }.';
  if (caps.length === 0) {
    throw configError(
      `${where}: perAccount alone lets anyone who knows an account name lock its owner out from a single address.`,
      `Add perAccountAndAddress (the low limit) and perAddress, and keep perAccount much higher. ${example}`,
    );
  }
  const tightest = caps.reduce((best, cap) => (cap.most < best.most ? cap : best));
  if (account.points <= tightest.most) {
    throw configError(
      `${where}: one client address can make up to ${tightest.most} failed attempts on one account within perAccount's ${window}-second window (as ${tightest.option} allows), enough to reach perAccount.points (${account.points}) alone and lock the account for everybody.`,
      `Raise perAccount.points above ${tightest.most}, or make ${tightest.option} stricter (a blockSeconds as long as the window). ${example}`,
    );
  }
}

function retryAfterSeconds(res: RateLimiterRes, rule: Required<LoginLimitRule>): number {
  const ms = res.msBeforeNext;
  if (!Number.isFinite(ms) || ms < 0) return Math.max(rule.durationSeconds, rule.blockSeconds);
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Creates a login limiter. Options are validated once; limiters and key hashing are set up once.
 *
 * @throws `ERR_CONFIG_INVALID` for unknown or malformed options
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createLoginLimiter, tooManyRequests } from 'sessionkit/ratelimit';
 *
 * const limiter = createLoginLimiter({
 *   perAccountAndAddress: { points: 5, durationSeconds: 24 * 3600, blockSeconds: 15 * 60 },
 *   perAccount: { points: 300, durationSeconds: 24 * 3600, blockSeconds: 60 * 60 },
 *   perAddress: { points: 100, durationSeconds: 24 * 3600, blockSeconds: 24 * 3600 },
 *   store: { redis: new Redis(process.env.REDIS_URL!) },
 * });
 *
 * const attempt = { account: email, address: context.clientAddress };
 * const verdict = await limiter.check(attempt);
 * if (!verdict.ok) return tooManyRequests(verdict.retryAfterSeconds);
 * if (await passwordMatches(email, password)) await limiter.recordSuccess(attempt);
 * else await limiter.recordFailure(attempt);
 * ```
 */
export function createLoginLimiter(options: LoginLimiterOptions): LoginLimiter {
  const where = 'createLoginLimiter()';
  assertOptionsObject(options, optionKeys, where);
  if (options === undefined || laneOptions.every(([, option]) => options[option] === undefined)) {
    throw configError(
      `${where}: set at least one of "perAccountAndAddress", "perAccount" and "perAddress".`,
      'For example `perAccountAndAddress: { points: 5, durationSeconds: 86400, blockSeconds: 900 }, perAccount: { points: 300, durationSeconds: 86400, blockSeconds: 3600 }, perAddress: { points: 100, durationSeconds: 86400, blockSeconds: 86400 }`.',
    );
  }
  const store = resolveStore(options.store, where);
  const keyPrefix = options.keyPrefix ?? 'sessionkit:login';
  if (typeof keyPrefix !== 'string' || !/^[\w:.-]{1,100}$/.test(keyPrefix)) {
    throw configError(`${where}: "keyPrefix" must be 1-100 characters of letters, digits, "_", ":", "." or "-".`);
  }
  const ipv6PrefixLength = options.ipv6PrefixLength ?? 64;
  assertNumberInRange(ipv6PrefixLength, 1, 128, `${where}: ipv6PrefixLength`);
  const keyRing = options.keyRing;
  if (keyRing !== undefined && (typeof keyRing !== 'object' || typeof keyRing?.derive !== 'function')) {
    throw configError(`${where}: "keyRing" must come from createKeyRing().`);
  }
  const hash = createKeyHasher(keyRing);
  const reporter = createReporter(options);
  const lanes: Lane[] = [];
  for (const [kind, option] of laneOptions) {
    const value = options[option];
    if (value === undefined) continue;
    const rule = resolveRule(value, `${where} ${option}`);
    lanes.push({ kind, option, rule, limiter: createLimiter(store, rule, `${keyPrefix}:${kind}`) });
  }
  assertNoLockoutFromOneAddress(lanes, where);

  const storeError = (operation: string, cause: unknown): SessionKitError => {
    reporter.emit({ type: 'store.unavailable', operation: `ratelimit.${operation}` });
    reporter.log('error', 'rate limit store unavailable', { operation, error: String(cause) });
    return new SessionKitError('ERR_STORE_UNAVAILABLE', `The rate limit store failed during ${operation}().`, {
      hint: 'Check the Redis connection. Login attempts are refused while limits cannot be enforced.',
      cause,
    });
  };

  const accountOf = (attempt: Partial<LoginAttempt>, operation: string): string => {
    const raw = attempt?.account;
    if (typeof raw !== 'string') {
      throw configError(`${where}: ${operation}() needs an account string, got ${describeValue(raw)}.`);
    }
    return normalizeAccount(raw);
  };

  const addressOf = (attempt: Partial<LoginAttempt>, operation: string): string => {
    const raw = attempt?.address;
    if (typeof raw !== 'string' || raw.trim() === '') {
      throw configError(
        `${where}: ${operation}() needs the client address, got ${describeValue(raw)}.`,
        'Pass a trusted client address, e.g. Astro `context.clientAddress`; never a raw X-Forwarded-For header.',
      );
    }
    return normalizeAddress(raw, ipv6PrefixLength);
  };

  const keyOf = (lane: Lane, attempt: Partial<LoginAttempt>, operation: string): Promise<string> => {
    if (lane.kind === 'account') return hash('account', accountOf(attempt, operation));
    if (lane.kind === 'address') return hash('address', addressOf(attempt, operation));
    return hash('accountAndAddress', pairValue(accountOf(attempt, operation), addressOf(attempt, operation)));
  };

  const keysOf = (attempt: Partial<LoginAttempt>, operation: string): Promise<string[]> =>
    Promise.all(lanes.map((lane) => keyOf(lane, attempt, operation)));

  const guard = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof SessionKitError) throw error;
      throw storeError(operation, error);
    }
  };

  return {
    async check(attempt) {
      const keys = await keysOf(attempt, 'check');
      const outcomes = await Promise.allSettled(
        lanes.map((lane, index) => lane.limiter.consume(keys[index] as string)),
      );
      const storeFailure = outcomes.find(
        (outcome) => outcome.status === 'rejected' && !(outcome.reason instanceof RateLimiterRes),
      );
      const refused = lanes
        .map((lane, index) => ({ lane, outcome: outcomes[index] as PromiseSettledResult<RateLimiterRes> }))
        .filter(({ outcome }) => outcome.status === 'rejected' && outcome.reason instanceof RateLimiterRes);
      if (storeFailure !== undefined || refused.length > 0) {
        // Give back what this attempt took from the lanes that let it through.
        await Promise.allSettled(
          lanes.map((lane, index) =>
            outcomes[index]?.status === 'fulfilled' ? lane.limiter.reward(keys[index] as string, 1) : undefined,
          ),
        );
      }
      if (storeFailure !== undefined) throw storeError('check', (storeFailure as PromiseRejectedResult).reason);
      if (refused.length === 0) return { ok: true };
      let worst = refused[0]!;
      let worstSeconds = 0;
      for (const entry of refused) {
        const seconds = retryAfterSeconds(
          (entry.outcome as PromiseRejectedResult).reason as RateLimiterRes,
          entry.lane.rule,
        );
        if (seconds > worstSeconds) {
          worst = entry;
          worstSeconds = seconds;
        }
      }
      return { ok: false, retryAfterSeconds: worstSeconds, limit: worst.lane.kind };
    },

    async recordFailure(attempt) {
      const keys = await keysOf(attempt, 'recordFailure');
      await guard('recordFailure', () =>
        Promise.all(
          lanes.map(async (lane, index) => {
            if (lane.rule.blockSeconds === 0) return;
            const key = keys[index] as string;
            const current = await lane.limiter.get(key);
            if (current !== null && current.consumedPoints >= lane.rule.points) {
              await lane.limiter.block(key, lane.rule.blockSeconds);
            }
          }),
        ),
      );
    },

    async recordSuccess(attempt) {
      const keys = await keysOf(attempt, 'recordSuccess');
      await guard('recordSuccess', () =>
        Promise.all(
          lanes.map(async (lane, index) => {
            const key = keys[index] as string;
            if (lane.kind === 'accountAndAddress') {
              await lane.limiter.delete(key);
              return;
            }
            const current = await lane.limiter.get(key);
            if (current !== null && current.consumedPoints > 0) await lane.limiter.reward(key, 1);
          }),
        ),
      );
    },

    async reset(attempt) {
      const given = { account: attempt?.account !== undefined, address: attempt?.address !== undefined };
      const selected = lanes.filter((lane) =>
        lane.kind === 'accountAndAddress' ? given.account && given.address : given[lane.kind],
      );
      const keys = await Promise.all(selected.map((lane) => keyOf(lane, attempt, 'reset')));
      await guard('reset', () =>
        Promise.all(selected.map((lane, index) => lane.limiter.delete(keys[index] as string))),
      );
    },
  };
}
