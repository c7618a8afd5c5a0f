import { describe, expect, it } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import type { SessionEvent } from '../core/events.ts';
import { createKeyRing } from '../core/keyring.ts';
import { createLoginLimiter, type LoginLimiter, type LoginLimiterOptions } from './login.ts';
import { tooManyRequests } from './response.ts';

function memoryLimiter(options: Partial<LoginLimiterOptions> = {}): LoginLimiter {
  return createLoginLimiter({
    perAccount: { points: 3, durationSeconds: 60 },
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
  it('N failures, then 429 with Retry-After', async () => {
    const limiter = memoryLimiter();
    for (let attempt = 0; attempt < 3; attempt++)
      expect(await fail(limiter, 'ada@example.com', '192.0.2.1')).toBe(true);
    const verdict = await limiter.check({ account: 'ada@example.com', address: '192.0.2.1' });
    expect(verdict).toMatchObject({ ok: false, limit: 'account' });
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
    const limiter = memoryLimiter({ perAccount: { points: 2, durationSeconds: 10, blockSeconds: 600 } });
    await fail(limiter, 'ada', '192.0.2.1');
    await fail(limiter, 'ada', '192.0.2.1');
    const verdict = await limiter.check({ account: 'ada', address: '192.0.2.1' });
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.retryAfterSeconds).toBeGreaterThan(590);
  });

  it('a success resets the account counter', async () => {
    const limiter = memoryLimiter();
    await fail(limiter, 'ada', '192.0.2.1');
    await fail(limiter, 'ada', '192.0.2.1');
    expect((await limiter.check({ account: 'ada', address: '192.0.2.1' })).ok).toBe(true);
    await limiter.recordSuccess({ account: 'ada', address: '192.0.2.1' });
    for (let attempt = 0; attempt < 3; attempt++) expect(await fail(limiter, 'ada', '192.0.2.1')).toBe(true);
    expect((await limiter.check({ account: 'ada', address: '192.0.2.1' })).ok).toBe(false);
  });

  it('the per-address limit is independent of accounts, and a refusal costs the other lane nothing', async () => {
    const limiter = memoryLimiter({ perAddress: { points: 4, durationSeconds: 60 } });
    for (let index = 0; index < 4; index++)
      expect(await fail(limiter, `user${index}@example.com`, '192.0.2.7')).toBe(true);
    const stuffing = await limiter.check({ account: 'victim@example.com', address: '192.0.2.7' });
    expect(stuffing).toMatchObject({ ok: false, limit: 'address' });
    // Another client is not affected, and the victim's account counter was not charged.
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(await fail(limiter, 'victim@example.com', '198.51.100.1')).toBe(true);
    }
    expect(await limiter.check({ account: 'victim@example.com', address: '198.51.100.1' })).toMatchObject({
      ok: false,
      limit: 'account',
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
    const limiter = memoryLimiter({ perAccount: { points: 5, durationSeconds: 60 } });
    const verdicts = await Promise.all(
      Array.from({ length: 40 }, () => limiter.check({ account: 'ada', address: '192.0.2.1' })),
    );
    expect(verdicts.filter((verdict) => verdict.ok)).toHaveLength(5);
  });

  it('normalises accounts: case, spacing and compatibility forms share one counter', async () => {
    const limiter = memoryLimiter();
    await fail(limiter, 'Ada@Example.com', '192.0.2.1');
    await fail(limiter, '  ada@example.COM ', '192.0.2.2');
    await fail(limiter, '\uFF41da@example.com', '192.0.2.3'); // full-width "a"
    expect((await limiter.check({ account: 'ada@example.com', address: '192.0.2.4' })).ok).toBe(false);
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

  it('reset() unlocks an account', async () => {
    const limiter = memoryLimiter();
    for (let attempt = 0; attempt < 3; attempt++) await fail(limiter, 'ada', '192.0.2.1');
    expect((await limiter.check({ account: 'ada', address: '192.0.2.1' })).ok).toBe(false);
    await limiter.reset({ account: 'ada' });
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
    ];
    for (const options of bad) {
      expect(() => createLoginLimiter(options as LoginLimiterOptions), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      );
    }
    expect(() =>
      createLoginLimiter({ perAccount: { points: 5, durationSeconds: 60 }, stores: 'memory' } as never),
    ).toThrow(/Did you mean "store"/);
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
      perAccount: { points: 5, durationSeconds: 60 },
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

describe('tooManyRequests', () => {
  it('always sends a whole number of seconds, at least 1', () => {
    expect(tooManyRequests(0.2).headers.get('retry-after')).toBe('1');
    expect(tooManyRequests(12.1).headers.get('retry-after')).toBe('13');
    expect(tooManyRequests(Number.NaN).headers.get('retry-after')).toBe('1');
    expect(tooManyRequests(-5).headers.get('cache-control')).toBe('no-store');
  });
});
