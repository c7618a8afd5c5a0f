import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import type { SessionEvent } from '../core/events.ts';
import { createKeyRing } from '../core/keyring.ts';
import { createLoginLimiter, type LoginLimiter, type LoginLimiterOptions, type LoginLimitRule } from './login.ts';
import { tooManyRequests } from './response.ts';

function memoryLimiter(options: Partial<LoginLimiterOptions> = {}): LoginLimiter {
  return createLoginLimiter({
    perAccountAndAddress: { points: 3, durationSeconds: 60 },
    perAccount: { points: 30, durationSeconds: 60 },
    perAddress: { points: 10, durationSeconds: 60 },
    ...options,
  });
}

async function fail(limiter: LoginLimiter, account: string, address: string): Promise<boolean> {
  const verdict = await limiter.check({ account, address });
  if (!verdict.ok) return false;
  await limiter.recordFailure({ account, address });
  return true;
}

describe('createLoginLimiter (memory)', () => {
  it('N failures of one account from one address, then 429 with Retry-After', async () => {
    const limiter = memoryLimiter();
    for (let attempt = 0; attempt < 3; attempt++)
      expect(await fail(limiter, 'ada@example.com', '192.0.2.1')).toBe(true);
    const verdict = await limiter.check({ account: 'ada@example.com', address: '192.0.2.1' });
    expect(verdict).toMatchObject({ ok: false, limit: 'accountAndAddress' });
    if (verdict.ok) return;
    expect(verdict.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(verdict.retryAfterSeconds).toBeLessThanOrEqual(60);
    const response = tooManyRequests(verdict.retryAfterSeconds);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe(String(verdict.retryAfterSeconds));
    expect(await response.json()).toEqual({
      error: {
        code: 'ERR_RATE_LIMITED',
        message: 'Too many attempts. Try again later.',
        retryAfterSeconds: verdict.retryAfterSeconds,
      },
    });
  });

  it('blockSeconds extends the refusal past the window once the limit is reached', async () => {
    const limiter = memoryLimiter({ perAccountAndAddress: { points: 2, durationSeconds: 10, blockSeconds: 600 } });
    await fail(limiter, 'ada', '192.0.2.1');
    await fail(limiter, 'ada', '192.0.2.1');
    const verdict = await limiter.check({ account: 'ada', address: '192.0.2.1' });
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.retryAfterSeconds).toBeGreaterThan(590);
  });

  it("the owner's success resets the pair, not the account's count from other addresses", async () => {
    const limiter = memoryLimiter({ perAccount: { points: 7, durationSeconds: 60 } });
    await fail(limiter, 'ada', '192.0.2.1');
    await fail(limiter, 'ada', '192.0.2.1');
    expect((await limiter.check({ account: 'ada', address: '192.0.2.1' })).ok).toBe(true);
    await limiter.recordSuccess({ account: 'ada', address: '192.0.2.1' });
    for (let attempt = 0; attempt < 3; attempt++) expect(await fail(limiter, 'ada', '192.0.2.1')).toBe(true);
    expect(await limiter.check({ account: 'ada', address: '192.0.2.1' })).toMatchObject({
      ok: false,
      limit: 'accountAndAddress',
    });
    // 5 failures counted for the account (the success gave its own attempt back): two more from
    // elsewhere reach 7, and then the account is refused everywhere.
    expect(await fail(limiter, 'ada', '198.51.100.9')).toBe(true);
    expect(await fail(limiter, 'ada', '198.51.100.9')).toBe(true);
    expect(await limiter.check({ account: 'ada', address: '203.0.113.1' })).toMatchObject({
      ok: false,
      limit: 'account',
    });
  });

  it("a stranger's failures from other addresses do not lock the owner out at the per-pair threshold", async () => {
    const limiter = memoryLimiter();
    // 5 addresses x 3 failures: every stranger address is refused for this account, and the
    // account has 15 failures, 5 times the per-pair limit (and below perAccount, 30).
    for (let index = 0; index < 5; index++) {
      const address = `198.51.100.${index + 1}`;
      for (let attempt = 0; attempt < 3; attempt++) expect(await fail(limiter, 'ada', address)).toBe(true);
      expect(await limiter.check({ account: 'ada', address })).toMatchObject({ ok: false, limit: 'accountAndAddress' });
    }
    const owner = { account: 'ada', address: '192.0.2.1' };
    expect((await limiter.check(owner)).ok).toBe(true);
    await limiter.recordSuccess(owner);
    // The owner can still get a password wrong twice, and sign in.
    expect(await fail(limiter, 'ada', '192.0.2.1')).toBe(true);
    expect(await fail(limiter, 'ada', '192.0.2.1')).toBe(true);
    expect((await limiter.check(owner)).ok).toBe(true);
  });

  it('the many-address threshold still blocks a guess spread over many addresses', async () => {
    const limiter = memoryLimiter({ perAccount: { points: 30, durationSeconds: 60, blockSeconds: 600 } });
    // 15 addresses x 2 failures: never the per-pair limit, 30 for the account.
    for (let index = 0; index < 15; index++) {
      for (let attempt = 0; attempt < 2; attempt++) expect(await fail(limiter, 'ada', `203.0.113.${index}`)).toBe(true);
    }
    const verdict = await limiter.check({ account: 'ada', address: '203.0.113.200' });
    expect(verdict).toMatchObject({ ok: false, limit: 'account' });
    expect(!verdict.ok && verdict.retryAfterSeconds).toBeGreaterThan(590);
    // The price of a limit per account: its owner waits too. Other accounts do not.
    expect((await limiter.check({ account: 'ada', address: '192.0.2.1' })).ok).toBe(false);
    expect((await limiter.check({ account: 'grace', address: '203.0.113.200' })).ok).toBe(true);
  });

  it('the per-address limit is independent of accounts, and a refusal costs the other lane nothing', async () => {
    const limiter = memoryLimiter({ perAddress: { points: 4, durationSeconds: 60 } });
    for (let index = 0; index < 4; index++)
      expect(await fail(limiter, `user${index}@example.com`, '192.0.2.7')).toBe(true);
    const stuffing = await limiter.check({ account: 'victim@example.com', address: '192.0.2.7' });
    expect(stuffing).toMatchObject({ ok: false, limit: 'address' });
    // Another client is not affected, and the victim's counters were not charged.
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(await fail(limiter, 'victim@example.com', '198.51.100.1')).toBe(true);
    }
    expect(await limiter.check({ account: 'victim@example.com', address: '198.51.100.1' })).toMatchObject({
      ok: false,
      limit: 'accountAndAddress',
    });
    // A locked account does not charge the address lane either.
    expect((await limiter.check({ account: 'someone@example.com', address: '198.51.100.1' })).ok).toBe(true);
  });

  it('successes give the attempt back to the address', async () => {
    const limiter = memoryLimiter({ perAddress: { points: 2, durationSeconds: 60 } });
    for (let index = 0; index < 10; index++) {
      const attempt = { account: `user${index}`, address: '192.0.2.9' };
      expect((await limiter.check(attempt)).ok).toBe(true);
      await limiter.recordSuccess(attempt);
    }
  });

  it('counts attempts up front: a parallel burst cannot outrun the limit', async () => {
    const limiter = memoryLimiter({ perAccountAndAddress: { points: 5, durationSeconds: 60 } });
    const verdicts = await Promise.all(
      Array.from({ length: 40 }, () => limiter.check({ account: 'ada', address: '192.0.2.1' })),
    );
    expect(verdicts.filter((verdict) => verdict.ok)).toHaveLength(5);
  });

  it('normalises accounts: case, spacing and compatibility forms share one counter', async () => {
    const limiter = memoryLimiter();
    await fail(limiter, 'Ada@Example.com', '192.0.2.1');
    await fail(limiter, '  ada@example.COM ', '192.0.2.1');
    await fail(limiter, '\uFF41da@example.com', '::ffff:192.0.2.1'); // full-width "a", IPv4-mapped address
    expect(await limiter.check({ account: 'ada@example.com', address: '192.0.2.1' })).toMatchObject({
      ok: false,
      limit: 'accountAndAddress',
    });
    const acrossAddresses = memoryLimiter({
      perAccountAndAddress: { points: 1, durationSeconds: 60 },
      perAccount: { points: 3, durationSeconds: 60 },
    });
    await fail(acrossAddresses, 'Ada@Example.com', '192.0.2.1');
    await fail(acrossAddresses, '  ada@example.COM ', '192.0.2.2');
    await fail(acrossAddresses, '\uFF41da@example.com', '192.0.2.3');
    expect(await acrossAddresses.check({ account: 'ada@example.com', address: '192.0.2.4' })).toMatchObject({
      ok: false,
      limit: 'account',
    });
  });

  it('one account at one address is one counter, whatever characters either holds', async () => {
    const limiter = memoryLimiter({ perAccountAndAddress: { points: 1, durationSeconds: 60 }, perAccount: undefined });
    await fail(limiter, 'a\u0000b', 'c');
    expect((await limiter.check({ account: 'a', address: 'b\u0000c' })).ok).toBe(true);
    expect((await limiter.check({ account: 'a\u0000b', address: 'c' })).ok).toBe(false);
  });

  it('limits IPv6 clients per /64 and unwraps IPv4-mapped addresses', async () => {
    const limiter = memoryLimiter({ perAccount: undefined, perAddress: { points: 2, durationSeconds: 60 } });
    await fail(limiter, 'a', '2001:db8:1:2::1');
    await fail(limiter, 'b', '2001:db8:1:2:ffff:ffff:ffff:ffff');
    expect((await limiter.check({ account: 'c', address: '[2001:db8:1:2::abcd]' })).ok).toBe(false);
    expect((await limiter.check({ account: 'c', address: '2001:db8:1:3::1' })).ok).toBe(true);
    await fail(limiter, 'a', '::ffff:192.0.2.50');
    await fail(limiter, 'b', '192.0.2.50');
    expect((await limiter.check({ account: 'c', address: '192.0.2.50' })).ok).toBe(false);
  });

  it('reset() unlocks an account (everywhere) and a pair (with the address too)', async () => {
    const limiter = memoryLimiter({
      perAccountAndAddress: { points: 2, durationSeconds: 60 },
      perAccount: { points: 5, durationSeconds: 60 },
    });
    for (const address of ['192.0.2.1', '192.0.2.1', '192.0.2.2', '192.0.2.2', '192.0.2.3']) {
      expect(await fail(limiter, 'ada', address)).toBe(true);
    }
    expect(await limiter.check({ account: 'ada', address: '192.0.2.4' })).toMatchObject({
      ok: false,
      limit: 'account',
    });
    await limiter.reset({ account: 'ada' });
    expect((await limiter.check({ account: 'ada', address: '192.0.2.4' })).ok).toBe(true);
    // The pair's own count needs the address to be cleared.
    expect(await limiter.check({ account: 'ada', address: '192.0.2.1' })).toMatchObject({
      ok: false,
      limit: 'accountAndAddress',
    });
    await limiter.reset({ account: 'ada', address: '192.0.2.1' });
    expect((await limiter.check({ account: 'ada', address: '192.0.2.1' })).ok).toBe(true);
  });

  it('HMACs keys when given a key ring, and still limits', async () => {
    const limiter = memoryLimiter({ keyRing: createKeyRing(testSecrets[0]) });
    for (let attempt = 0; attempt < 3; attempt++) await fail(limiter, 'ada', '192.0.2.1');
    expect((await limiter.check({ account: 'ada', address: '192.0.2.1' })).ok).toBe(false);
  });

  it('requires a client address and an account string', async () => {
    const limiter = memoryLimiter();
    await expect(limiter.check({ account: 'ada', address: '' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      hint: expect.stringContaining('clientAddress'),
    });
    await expect(limiter.check({ account: undefined as never, address: '192.0.2.1' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
    });
  });

  it('validates options once', () => {
    const bad: unknown[] = [
      undefined,
      {},
      { perAccount: { points: 0, durationSeconds: 60 } },
      { perAccount: { points: 1.5, durationSeconds: 60 } },
      { perAccount: { points: 5, duration: 60 } },
      { perAccount: { points: 5, durationSeconds: 60 }, stores: 'memory' },
      { perAccount: { points: 5, durationSeconds: 60 }, store: 'redis' },
      { perAccount: { points: 5, durationSeconds: 60 }, store: { redis: {} } },
      { perAccount: { points: 5, durationSeconds: 60 }, keyPrefix: 'has space' },
      { perAccount: { points: 5, durationSeconds: 60 }, ipv6PrefixLength: 0 },
      { perAccountAndAddress: { points: 5, durationSeconds: 60 }, perAccount: { points: 10, durationSeconds: 60 } },
      { perAccount: { points: 1000, durationSeconds: 60 } },
      { perAccountAndAddress: { points: 5, durationSecond: 60 } },
    ];
    for (const options of bad) {
      expect(() => createLoginLimiter(options as LoginLimiterOptions), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      );
    }
    expect(() =>
      createLoginLimiter({ perAccount: { points: 5, durationSeconds: 60 }, stores: 'memory' } as never),
    ).toThrow(/Did you mean "store"/);
    expect(() => createLoginLimiter({ perAcountAndAddress: { points: 5, durationSeconds: 60 } } as never)).toThrow(
      /Did you mean "perAccountAndAddress"/,
    );
    expect(() => createLoginLimiter({ perAccountAndAddress: { points: 5, durationSecond: 60 } } as never)).toThrow(
      /Did you mean "durationSeconds"/,
    );
    expect(() => createLoginLimiter({ perAccount: { points: 1000, durationSeconds: 60 } })).toThrow(
      /perAccount alone lets anyone who knows an account name lock its owner out/,
    );
  });

  it('store outages fail closed with ERR_STORE_UNAVAILABLE and an event', async () => {
    const events: SessionEvent[] = [];
    const broken = {
      multi() {
        throw new Error('connection refused');
      },
      del: () => Promise.reject(new Error('connection refused')),
      eval: () => Promise.reject(new Error('connection refused')),
      defineCommand(this: Record<string, unknown>, name: string) {
        this[name] = () => Promise.reject(new Error('connection refused'));
      },
    };
    const limiter = createLoginLimiter({
      perAccountAndAddress: { points: 5, durationSeconds: 60 },
      store: { redis: broken },
      onEvent: (event) => events.push(event),
    });
    await expect(limiter.check({ account: 'ada', address: '192.0.2.1' })).rejects.toMatchObject({
      code: 'ERR_STORE_UNAVAILABLE',
      status: 503,
    });
    expect(events).toContainEqual({ type: 'store.unavailable', operation: 'ratelimit.check' });
  });
});

describe('createLoginLimiter: one address alone cannot lock an account out', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const recommended: LoginLimiterOptions = {
    perAccountAndAddress: { points: 5, durationSeconds: 86400, blockSeconds: 900 },
    perAccount: { points: 300, durationSeconds: 86400, blockSeconds: 3600 },
    perAddress: { points: 100, durationSeconds: 86400, blockSeconds: 86400 },
  };

  /** The owner, from an address of their own, is not refused because of the account. */
  async function ownerCanTry(limiter: LoginLimiter, account: string): Promise<boolean> {
    const owner = { account, address: '192.0.2.200' };
    const verdict = await limiter.check(owner);
    if (verdict.ok) await limiter.recordSuccess(owner);
    return verdict.ok;
  }

  /** The lowest perAccount.points createLoginLimiter accepts with these other limits. */
  function lowestAcceptedAccountPoints(options: LoginLimiterOptions, window: number): number {
    for (let points = 1; points < 100_000; points++) {
      try {
        createLoginLimiter({ ...options, perAccount: { points, durationSeconds: window } });
        return points;
      } catch {
        // not yet
      }
    }
    throw new Error('no perAccount limit accepted');
  }

  it('the recommended limits: a stranger failing as fast as allowed for two days never locks the owner out', async () => {
    vi.useFakeTimers();
    const limiter = createLoginLimiter(recommended);
    const stranger = { account: 'ada', address: '198.51.100.7' };
    const end = Date.now() + 2 * 86400_000;
    let failures = 0;
    while (Date.now() < end) {
      const verdict = await limiter.check(stranger);
      if (verdict.ok) {
        await limiter.recordFailure(stranger);
        failures++;
        continue;
      }
      expect(verdict.limit).not.toBe('account');
      expect(await ownerCanTry(limiter, 'ada')).toBe(true);
      vi.advanceTimersByTime(verdict.retryAfterSeconds * 1000);
    }
    expect(failures).toBeGreaterThanOrEqual(200); // the address's whole budget went into the guess
    expect(await ownerCanTry(limiter, 'ada')).toBe(true);
  });

  it('any accepted limits: one address, failing at any pace on any accounts, never brings perAccount to refuse', async () => {
    const rule = (max: number): fc.Arbitrary<LoginLimitRule> =>
      fc.record({
        points: fc.integer({ min: 1, max }),
        durationSeconds: fc.constantFrom(60, 600, 3600),
        blockSeconds: fc.constantFrom(0, 60, 600, 3600),
      });
    await fc.assert(
      fc.asyncProperty(
        rule(6),
        fc.constantFrom(60, 600, 3600),
        rule(20),
        fc.boolean(),
        fc.array(
          fc.record({
            // Window and block edges, and anything in between.
            waitSeconds: fc.oneof(
              fc.constantFrom(0, 1, 59, 60, 61, 599, 600, 601, 3599, 3600, 3601),
              fc.integer({ min: 0, max: 4000 }),
            ),
            burst: fc.integer({ min: 1, max: 8 }),
            target: fc.boolean(),
          }),
          { maxLength: 150 },
        ),
        async (pair, accountWindowSeconds, address, withAddressLimit, steps) => {
          const others: LoginLimiterOptions = {
            perAccountAndAddress: pair,
            ...(withAddressLimit ? { perAddress: address } : {}),
          };
          // The tightest accepted account limit: the one the guarantee has to hold at.
          const points = lowestAcceptedAccountPoints(others, accountWindowSeconds);
          const limiter = createLoginLimiter({
            ...others,
            perAccount: { points, durationSeconds: accountWindowSeconds },
          });
          vi.useFakeTimers();
          try {
            let other = 0;
            for (const step of steps) {
              vi.advanceTimersByTime(step.waitSeconds * 1000);
              const attempt = { account: step.target ? 'ada' : `other${other++}`, address: '198.51.100.7' };
              for (let index = 0; index < step.burst; index++) {
                const verdict = await limiter.check(attempt);
                if (verdict.ok) await limiter.recordFailure(attempt);
              }
              expect(await ownerCanTry(limiter, 'ada')).toBe(true);
            }
          } finally {
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a perAccount window shorter than the pair window: failures at the end of one pair window and the start of the next still cannot lock the owner out', async () => {
    // Found by the property above: with floor(span / window) + 1 windows, a 60-second account
    // window was thought to meet one 3600-second pair window, and 3 points were accepted.
    vi.useFakeTimers();
    try {
      const others: LoginLimiterOptions = { perAccountAndAddress: { points: 2, durationSeconds: 3600 } };
      const points = lowestAcceptedAccountPoints(others, 60);
      expect(points).toBe(5); // two pair windows of 2 failures can meet one account window
      const limiter = createLoginLimiter({ ...others, perAccount: { points, durationSeconds: 60 } });
      const stranger = { account: 'ada', address: '198.51.100.7' };
      const fail = async () => {
        const verdict = await limiter.check(stranger);
        if (verdict.ok) await limiter.recordFailure(stranger);
      };
      await fail();
      vi.advanceTimersByTime(3599_000);
      await fail();
      vi.advanceTimersByTime(1000);
      await fail();
      await fail();
      expect(await ownerCanTry(limiter, 'ada')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('at the lowest accepted perAccount, a span that meets the end of one address window and the start of the next still cannot lock the owner out', async () => {
    vi.useFakeTimers();
    const others: LoginLimiterOptions = {
      perAccountAndAddress: { points: 6, durationSeconds: 60 },
      perAddress: { points: 10, durationSeconds: 3600 },
    };
    const points = lowestAcceptedAccountPoints(others, 3600);
    const limiter = createLoginLimiter({ ...others, perAccount: { points, durationSeconds: 3600 } });
    const stranger = { account: 'ada', address: '198.51.100.7' };
    let failures = 0;
    const start = Date.now();
    const failAt = async (offsetSeconds: number, count: number, account = 'ada'): Promise<void> => {
      vi.setSystemTime(start + offsetSeconds * 1000);
      for (let index = 0; index < count; index++) {
        const attempt = { ...stranger, account };
        const verdict = await limiter.check(attempt);
        if (!verdict.ok) return;
        await limiter.recordFailure(attempt);
        if (account === 'ada') failures++;
      }
    };
    await failAt(0, 1, 'someone-else'); // starts the address's window early
    await failAt(3530, 6); // the account's window starts here
    await failAt(3590, 6); // the address's window is used up
    for (const offset of [3600, 3660, 3720, 3780]) await failAt(offset, 6); // its next window
    expect(failures).toBe(19); // 9 + 10 within the account's 3600-second window
    expect(points).toBeGreaterThan(failures);
    expect(await ownerCanTry(limiter, 'ada')).toBe(true);
  });

  it('at the lowest accepted perAccount, a client that stays one failure short of a long block every window cannot lock the owner out', async () => {
    vi.useFakeTimers();
    const others: LoginLimiterOptions = {
      perAccountAndAddress: { points: 3, durationSeconds: 60, blockSeconds: 3600 },
    };
    const points = lowestAcceptedAccountPoints(others, 3600);
    const limiter = createLoginLimiter({ ...others, perAccount: { points, durationSeconds: 3600 } });
    const stranger = { account: 'ada', address: '198.51.100.7' };
    let failures = 0;
    for (let minute = 0; minute < 60; minute++) {
      for (let index = 0; index < 2; index++) {
        expect((await limiter.check(stranger)).ok).toBe(true); // 2 of 3: the block never starts
        await limiter.recordFailure(stranger);
        failures++;
      }
      vi.advanceTimersByTime(60_000);
    }
    expect(failures).toBe(120);
    expect(points).toBeGreaterThan(failures);
    expect(await ownerCanTry(limiter, 'ada')).toBe(true);
  });

  it("refuses the old setup in which a stranger's five failures locked the account everywhere", () => {
    expect(() =>
      createLoginLimiter({
        perAccount: { points: 5, durationSeconds: 900, blockSeconds: 900 },
        perAddress: { points: 20, durationSeconds: 900 },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message: expect.stringContaining(
          "one client address can make up to 40 failed attempts on one account within perAccount's 900-second window (as perAddress allows), enough to reach perAccount.points (5) alone",
        ),
        hint: expect.stringContaining('perAccountAndAddress'),
      }),
    );
    expect(() => createLoginLimiter(recommended)).not.toThrow();
  });
});

describe('tooManyRequests', () => {
  it('always sends a whole number of seconds, at least 1', () => {
    expect(tooManyRequests(0.2).headers.get('retry-after')).toBe('1');
    expect(tooManyRequests(12.1).headers.get('retry-after')).toBe('13');
    expect(tooManyRequests(Number.NaN).headers.get('retry-after')).toBe('1');
    expect(tooManyRequests(-5).headers.get('cache-control')).toBe('no-store');
  });
});
