/**
 * The login limiter against a real Redis at 127.0.0.1:6379 (never mocked). When Redis is not
 * running, it is started with the project's command (test/support/services.ts, no persistence);
 * otherwise the suite fails with a message saying what is missing.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRedis } from '../../test/support/services.ts';
import { createLoginLimiter, type LoginLimiter, type LoginLimiterOptions } from './login.ts';
import { tooManyRequests } from './response.ts';

const host = '127.0.0.1';
const port = 6379;
const prefix = `sessionkit-test:${randomUUID()}`;
const clients: Redis[] = [];

function client(): Redis {
  const redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1, enableAutoPipelining: true });
  clients.push(redis);
  return redis;
}

let run = 0;
function limiterPair(options: Partial<LoginLimiterOptions>): [LoginLimiter, LoginLimiter] {
  const keyPrefix = `${prefix}:${++run}`;
  const make = () =>
    createLoginLimiter({
      perAccountAndAddress: { points: 3, durationSeconds: 60 },
      perAccount: { points: 12, durationSeconds: 60 },
      perAddress: { points: 20, durationSeconds: 60 },
      keyPrefix,
      ...options,
      store: { redis: client() },
    });
  return [make(), make()];
}

async function fail(limiter: LoginLimiter, account: string, address: string): Promise<boolean> {
  const verdict = await limiter.check({ account, address });
  if (!verdict.ok) return false;
  await limiter.recordFailure({ account, address });
  return true;
}

beforeAll(async () => {
  await ensureRedis();
});

afterAll(async () => {
  const cleaner = client();
  let cursor = '0';
  do {
    const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await cleaner.del(...keys);
  } while (cursor !== '0');
  await Promise.all(clients.map((redis) => redis.quit().catch(() => undefined)));
});

describe('createLoginLimiter (real Redis)', () => {
  it('shares state between two limiter instances (separate connections)', async () => {
    const [a, b] = limiterPair({});
    expect(await fail(a, 'ada@example.com', '192.0.2.1')).toBe(true);
    expect(await fail(b, 'ada@example.com', '192.0.2.1')).toBe(true);
    expect(await fail(a, 'Ada@example.com', '::ffff:192.0.2.1')).toBe(true);
    const verdict = await b.check({ account: 'ADA@example.com', address: '192.0.2.1' });
    expect(verdict).toMatchObject({ ok: false, limit: 'accountAndAddress' });
    if (verdict.ok) return;
    const response = tooManyRequests(verdict.retryAfterSeconds);
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it("the owner's success on one instance resets the pair for the other", async () => {
    const [a, b] = limiterPair({});
    await fail(a, 'ada', '192.0.2.1');
    await fail(a, 'ada', '192.0.2.1');
    expect((await b.check({ account: 'ada', address: '192.0.2.1' })).ok).toBe(true);
    await b.recordSuccess({ account: 'ada', address: '192.0.2.1' });
    for (let attempt = 0; attempt < 3; attempt++) expect(await fail(a, 'ada', '192.0.2.1')).toBe(true);
    expect(await b.check({ account: 'ada', address: '192.0.2.1' })).toMatchObject({
      ok: false,
      limit: 'accountAndAddress',
    });
  });

  it("a stranger's failures from other addresses do not lock the owner out at the per-pair threshold", async () => {
    const [a, b] = limiterPair({});
    // 3 addresses x 3 failures over both instances: 3 times the per-pair limit, below perAccount (12).
    for (let index = 0; index < 3; index++) {
      const address = `198.51.100.${index + 1}`;
      for (let attempt = 0; attempt < 3; attempt++) expect(await fail(attempt % 2 ? a : b, 'ada', address)).toBe(true);
      expect(await a.check({ account: 'ada', address })).toMatchObject({ ok: false, limit: 'accountAndAddress' });
    }
    const owner = { account: 'ada', address: '192.0.2.1' };
    expect((await b.check(owner)).ok).toBe(true);
    await b.recordSuccess(owner);
    expect((await a.check(owner)).ok).toBe(true);
  });

  it('the many-address threshold still blocks a distributed guess, on every instance', async () => {
    const [a, b] = limiterPair({ perAccount: { points: 12, durationSeconds: 60, blockSeconds: 900 } });
    // 6 addresses x 2 failures: never the per-pair limit (3), 12 for the account.
    for (let index = 0; index < 6; index++) {
      for (let attempt = 0; attempt < 2; attempt++)
        expect(await fail(index % 2 ? a : b, 'ada', `203.0.113.${index}`)).toBe(true);
    }
    for (const limiter of [a, b]) {
      const verdict = await limiter.check({ account: 'ada', address: '203.0.113.99' });
      expect(verdict).toMatchObject({ ok: false, limit: 'account' });
      expect(!verdict.ok && verdict.retryAfterSeconds).toBeGreaterThan(890);
    }
  });

  it('blockSeconds holds across instances', async () => {
    const [a, b] = limiterPair({ perAccountAndAddress: { points: 2, durationSeconds: 60, blockSeconds: 900 } });
    await fail(a, 'ada', '192.0.2.1');
    await fail(a, 'ada', '192.0.2.1');
    const verdict = await b.check({ account: 'ada', address: '192.0.2.1' });
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.retryAfterSeconds).toBeGreaterThan(890);
  });

  it('the per-address limit is shared and independent of accounts', async () => {
    const [a, b] = limiterPair({ perAddress: { points: 4, durationSeconds: 60 } });
    for (let index = 0; index < 4; index++) {
      expect(await fail(index % 2 ? a : b, `user${index}@example.com`, '2001:db8:5:6::1')).toBe(true);
    }
    expect(await a.check({ account: 'victim@example.com', address: '2001:db8:5:6::ffff' })).toMatchObject({
      ok: false,
      limit: 'address',
    });
    expect((await b.check({ account: 'victim@example.com', address: '198.51.100.2' })).ok).toBe(true);
  });

  it('counts atomically: a parallel burst over two instances gets exactly `points` attempts', async () => {
    const [a, b] = limiterPair({ perAccountAndAddress: { points: 5, durationSeconds: 60 } });
    const verdicts = await Promise.all(
      Array.from({ length: 30 }, (_, index) => (index % 2 ? a : b).check({ account: 'ada', address: '192.0.2.1' })),
    );
    expect(verdicts.filter((verdict) => verdict.ok)).toHaveLength(5);
  });

  it('stores no email address or IP in clear', async () => {
    const [a] = limiterPair({});
    await fail(a, 'grace.hopper@example.com', '203.0.113.77');
    const keys = await client().keys(`${prefix}:${run}:*`);
    expect(keys.map((key) => key.split(':').at(-2)).sort()).toEqual(['account', 'accountAndAddress', 'address']);
    for (const key of keys) {
      expect(key).not.toMatch(/grace|hopper|example\.com|203\.0\.113/);
      expect(key.slice(prefix.length)).toMatch(/^:\d+:(accountAndAddress|account|address):[\w-]{43}$/);
    }
  });
});
