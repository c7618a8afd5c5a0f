import { describe, expect, it, vi } from 'vitest';
import { CookieJar, createTestClock, testSecrets } from '../../test/support/fixtures.ts';
import { createKeyRing } from './keyring.ts';
import { createSessionManager } from './manager.ts';
import { createSealer } from './seal.ts';
import { createSealedBackend } from './sealed-backend.ts';
import type { SessionChanges, SessionRecord } from './session.ts';

const noChanges: SessionChanges = {
  setKeys: new Set(),
  unsetKeys: new Set(),
  flashChanged: false,
  previousId: undefined,
  destroyed: false,
};

function record(id: string): SessionRecord {
  return { id, createdAt: 1, renewedAt: 1, expiresAt: 2_000_000_000, data: { id }, flash: {} };
}

function spiedBackend(maxEntries?: number) {
  const sealer = createSealer(createKeyRing(testSecrets[0]), 'cookie');
  const unseal = vi.spyOn(sealer, 'unseal');
  return { unseal, backend: createSealedBackend(sealer, 'sid', maxEntries) };
}

describe('cookieCache.maxEntries', () => {
  it('a hit opens the value without AES-GCM', async () => {
    const { unseal, backend } = spiedBackend(2);
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    expect(await backend.read(cookieValue, 0)).toMatchObject({ ok: true, record: { data: { id: 'a' } } });
    expect(unseal).not.toHaveBeenCalled();
  });

  it('evicts the oldest value once more than maxEntries are remembered', async () => {
    const { unseal, backend } = spiedBackend(2);
    const values = [];
    for (const id of ['a', 'b', 'c']) values.push((await backend.write(record(id), noChanges, undefined)).cookieValue);
    expect(backend.readRemembered(values[0] as string)).toBeUndefined();
    expect(backend.readRemembered(values[1] as string)).toMatchObject({ ok: true });
    expect(backend.readRemembered(values[2] as string)).toMatchObject({ ok: true });
    expect(await backend.read(values[0] as string, 0)).toMatchObject({ ok: true, record: { data: { id: 'a' } } });
    expect(unseal).toHaveBeenCalledTimes(1);
  });

  it('gives every hit its own data, the first one and every later one', async () => {
    const { unseal, backend } = spiedBackend(2);
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    for (let hit = 0; hit < 3; hit++) {
      const read = await backend.read(cookieValue, 0);
      if (!read.ok) throw new Error('expected a hit');
      expect(read.record.data).toEqual({ id: 'a' });
      read.record.data.id = `changed by hit ${hit}`;
    }
    expect(unseal).not.toHaveBeenCalled();
  });

  it('hits take no slot: after reading the older value twice, both values stay remembered', async () => {
    const { backend } = spiedBackend(2);
    const first = (await backend.write(record('a'), noChanges, undefined)).cookieValue;
    const second = (await backend.write(record('b'), noChanges, undefined)).cookieValue;
    expect(await backend.read(first, 0)).toMatchObject({ ok: true });
    expect(await backend.read(first, 0)).toMatchObject({ ok: true });
    expect(backend.readRemembered(first)).toMatchObject({ ok: true });
    expect(backend.readRemembered(second)).toMatchObject({ ok: true });
  });

  it('0 turns the cache off: every read opens the value', async () => {
    const { unseal, backend } = spiedBackend(0);
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    expect(backend.readRemembered(cookieValue)).toBeUndefined();
    expect((await backend.read(cookieValue, 0)).ok).toBe(true);
    expect((await backend.read(cookieValue, 0)).ok).toBe(true);
    expect(unseal).toHaveBeenCalledTimes(2);
  });

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
