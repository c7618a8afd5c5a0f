import { describe, expect, it } from 'vitest';
import { CookieJar, createTestClock, testSecrets } from '../../test/support/fixtures.ts';
import { createSessionManager } from './manager.ts';

describe('cookieCache.maxEntries (sealed-backend.test.ts tests hits, eviction and 0)', () => {
  it('still enforces expiry when the value is served from the cache', async () => {
    const clock = createTestClock();
    const manager = createSessionManager<{ userId?: string }>({
      secrets: testSecrets[0],
      now: clock.now,
      expiry: { absoluteTimeoutSeconds: 3600, idleTimeoutSeconds: 600 },
    });
    const jar = new CookieJar();
    const { session } = await manager.load(null);
    session.set('userId', 'u1');
    jar.apply(await manager.commit(session));
    expect(await manager.load(jar.header())).toMatchObject({ status: 'valid' }); // remembered now
    clock.advanceSeconds(601);
    const late = await manager.load(jar.header());
    expect(late).toMatchObject({ status: 'rejected', reason: 'expired' });
    expect(late.session.get('userId')).toBeUndefined();
  });

  it('is validated at construction: the error names the option path, the cause and the fix', () => {
    const secrets = testSecrets[0];
    for (const maxEntries of [-1, 1.5, Number.NaN, '10', 2_000_000]) {
      expect(() => createSessionManager({ secrets, cookieCache: { maxEntries: maxEntries as number } })).toThrow(
        expect.objectContaining({
          code: 'ERR_CONFIG_INVALID',
          message: expect.stringContaining('createSessionManager(): cookieCache.maxEntries must be a whole number'),
          hint: expect.stringContaining('0 to turn the cache off'),
        }),
      );
    }
    expect(() => createSessionManager({ secrets, cookieCache: { size: 10 } as never })).toThrow(
      /cookieCache: unknown option "size"/,
    );
    expect(() => createSessionManager({ secrets, cookieCache: 10 as never })).toThrow(
      /cookieCache: options must be an object/,
    );
    expect(() => createSessionManager({ secrets, cookieCache: { maxEntries: 0 } })).not.toThrow();
  });
});
