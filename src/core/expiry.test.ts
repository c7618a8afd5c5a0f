import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestClock, testSecrets } from '../../test/support/fixtures.ts';
import { memoryStore } from '../stores/memory.ts';
import type { SessionEvent } from './events.ts';
import { computeExpiresAt, defaultExpiry, isLive, livenessOf, resolveExpiry } from './expiry.ts';
import { createSessionManager } from './manager.ts';

const policy = resolveExpiry({ absoluteTimeoutSeconds: 3600, idleTimeoutSeconds: 600 }, 'test');
const now = 1_800_000_000;

function recordAt(createdAt: number, renewedAt = createdAt) {
  return { createdAt, renewedAt, expiresAt: computeExpiresAt(policy, createdAt, renewedAt) };
}

describe('livenessOf', () => {
  it('allows 60 s of clock skew by default', () => {
    expect(defaultExpiry.clockSkewSeconds).toBe(60);
    expect(policy.clockSkewSeconds).toBe(60);
  });

  it('a record issued within the skew allowance is live; one second beyond it is future_dated', () => {
    expect(livenessOf(policy, recordAt(now + 60), now)).toBe('live');
    expect(livenessOf(policy, recordAt(now + 61), now)).toBe('future_dated');
    expect(livenessOf(policy, recordAt(now - 30, now + 60), now)).toBe('live');
    expect(livenessOf(policy, recordAt(now - 30, now + 61), now)).toBe('future_dated');
  });

  it('a record dated a year ahead is refused, although its own expiry is a year away', () => {
    const aYear = 365 * 86400;
    const record = recordAt(now + aYear);
    expect(record.expiresAt).toBeGreaterThan(now + aYear);
    expect(livenessOf(policy, record, now)).toBe('future_dated');
    expect(isLive(policy, record, now)).toBe(false);
  });

  it('the allowance is configurable, down to zero', () => {
    const strict = resolveExpiry({ clockSkewSeconds: 0 }, 'test');
    expect(livenessOf(strict, recordAt(now), now)).toBe('live');
    expect(livenessOf(strict, recordAt(now + 1), now)).toBe('future_dated');
    const lax = resolveExpiry({ clockSkewSeconds: 300 }, 'test');
    expect(livenessOf(lax, recordAt(now + 300), now)).toBe('live');
  });

  it('past records are live until the earlier of the idle and absolute limits, then expired', () => {
    expect(livenessOf(policy, recordAt(now - 599), now)).toBe('live');
    expect(livenessOf(policy, recordAt(now - 600), now)).toBe('expired');
    expect(livenessOf(policy, recordAt(now - 3599, now - 10), now)).toBe('live');
    expect(livenessOf(policy, recordAt(now - 3600, now - 10), now)).toBe('expired');
  });

  it('never calls a record live whose times lie beyond the allowance (any times)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10 * 86400, max: 10 * 86400 }),
        fc.integer({ min: -10 * 86400, max: 10 * 86400 }),
        (created, renewed) => {
          const record = recordAt(now + created, now + renewed);
          const verdict = livenessOf(policy, record, now);
          const future = created > 60 || renewed > 60;
          expect(verdict === 'future_dated').toBe(future);
          if (verdict === 'live') expect(now).toBeLessThan(record.expiresAt);
        },
      ),
    );
  });

  it('rejects a bad allowance at construction, with the option path', () => {
    for (const clockSkewSeconds of [-1, 3601, Number.NaN, '60']) {
      expect(() => resolveExpiry({ clockSkewSeconds } as never, 'createSessionManager()')).toThrow(
        expect.objectContaining({
          code: 'ERR_CONFIG_INVALID',
          message: expect.stringContaining('expiry.clockSkewSeconds'),
        }),
      );
    }
    expect(() => resolveExpiry({ clockSkewSecond: 60 } as never, 'createSessionManager()')).toThrow(
      /Did you mean "clockSkewSeconds"/,
    );
  });
});

describe('future-dated sessions through the manager', () => {
  const expiry = { absoluteTimeoutSeconds: 3600, idleTimeoutSeconds: 600 };

  it('cookie mode: a cookie sealed by a server whose clock runs 2 minutes fast is refused (future_dated), 1 minute is accepted', async () => {
    const clock = createTestClock();
    const events: SessionEvent[] = [];
    const warnings: string[] = [];
    const honest = createSessionManager({
      secrets: testSecrets[0],
      now: clock.now,
      expiry,
      onEvent: (event) => events.push(event),
      logger: { warn: (message) => warnings.push(message) },
    });
    const sealAhead = async (seconds: number): Promise<string> => {
      const fast = createSessionManager({ secrets: testSecrets[0], now: () => clock.now() + seconds * 1000, expiry });
      const { session } = await fast.load(null);
      session.set('userId', 'u1');
      return (await fast.commit(session))[0]!.split(';')[0]!;
    };
    const ahead = await honest.load(await sealAhead(120));
    expect(ahead).toMatchObject({ status: 'rejected', reason: 'future_dated' });
    expect(ahead.session.get('userId')).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ type: 'session.rejected', reason: 'future_dated' });
    expect(warnings.at(-1)).toMatch(/in the future/);
    const skewed = await honest.load(await sealAhead(60));
    expect(skewed.status).toBe('valid');
    expect(skewed.session.get('userId')).toBe('u1');
  });

  it('store mode: a row written with a date ahead is refused on load and left out of listSessions()', async () => {
    const clock = createTestClock();
    const store = memoryStore({ now: clock.now });
    const fast = createSessionManager({ secrets: testSecrets[0], store, now: () => clock.now() + 3600_000, expiry });
    const honest = createSessionManager({ secrets: testSecrets[0], store, now: clock.now, expiry });
    const { session } = await fast.load(null);
    session.set('userId', 'u1');
    const cookie = (await fast.commit(session))[0]!.split(';')[0]!;
    expect(await fast.listSessions('u1')).toHaveLength(1);
    expect(await honest.listSessions('u1')).toEqual([]);
    expect(await honest.load(cookie)).toMatchObject({ status: 'rejected', reason: 'future_dated' });
  });
});
