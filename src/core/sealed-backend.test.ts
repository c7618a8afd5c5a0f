import { describe, expect, it, vi } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { defaultCookieCacheMaxEntries } from './cookie-cache.ts';
import { createKeyRing } from './keyring.ts';
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
  return { id, createdAt: 1, renewedAt: 1, expiresAt: 2_000_000_000, data: { list: [1] }, flash: {} };
}

describe('sealed backend: remembered cookie values', () => {
  it('opens a value it wrote, or opened before, without AES-GCM, synchronously, each read with its own copy', async () => {
    const sealer = createSealer(createKeyRing(testSecrets[0]), 'cookie');
    const unseal = vi.spyOn(sealer, 'unseal');
    const backend = createSealedBackend(sealer, 'sid');
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    const first = backend.readRemembered(cookieValue); // a remembered value loads synchronously
    expect(first).toMatchObject({ ok: true });
    const second = await backend.read(cookieValue, 0);
    expect(unseal).not.toHaveBeenCalled();
    if (!first?.ok || !second.ok) throw new Error('expected both reads to succeed');
    (first.record.data.list as number[]).push(2);
    expect(second.record.data).toEqual({ list: [1] });

    const other = createSealedBackend(sealer, 'sid');
    expect(other.readRemembered(cookieValue)).toBeUndefined(); // never seen here: AES-GCM first
    expect((await other.read(cookieValue, 0)).ok).toBe(true);
    expect((await other.read(cookieValue, 0)).ok).toBe(true);
    expect(unseal).toHaveBeenCalledTimes(1);
  });

  it('never remembers a value that failed to open, and stays bounded', async () => {
    const sealer = createSealer(createKeyRing(testSecrets[0]), 'cookie');
    const unseal = vi.spyOn(sealer, 'unseal');
    const backend = createSealedBackend(sealer, 'sid');
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    const tampered = `${cookieValue.slice(0, -2)}${cookieValue.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(await backend.read(tampered, 0)).toMatchObject({ ok: false });
    expect(await backend.read(tampered, 0)).toMatchObject({ ok: false });
    expect(unseal).toHaveBeenCalledTimes(2);
    for (let index = 0; index <= defaultCookieCacheMaxEntries; index++)
      await backend.write(record(`r${index}`), noChanges, undefined);
    unseal.mockClear();
    expect((await backend.read(cookieValue, 0)).ok).toBe(true); // evicted, so opened again
    expect(unseal).toHaveBeenCalledTimes(1);
  });
});

function spiedBackend(maxEntries?: number) {
  const sealer = createSealer(createKeyRing(testSecrets[0]), 'cookie');
  const unseal = vi.spyOn(sealer, 'unseal');
  return { unseal, backend: createSealedBackend(sealer, 'sid', maxEntries) };
}

describe('sealed backend: cookieCache.maxEntries', () => {
  it('a hit opens the value without AES-GCM', async () => {
    const { unseal, backend } = spiedBackend(2);
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    expect(await backend.read(cookieValue, 0)).toMatchObject({ ok: true, record: { id: 'a' } });
    expect(unseal).not.toHaveBeenCalled();
  });

  it('evicts the oldest value once more than maxEntries are remembered', async () => {
    const { unseal, backend } = spiedBackend(2);
    const values = [];
    for (const id of ['a', 'b', 'c']) values.push((await backend.write(record(id), noChanges, undefined)).cookieValue);
    expect(backend.readRemembered(values[0] as string)).toBeUndefined();
    expect(backend.readRemembered(values[1] as string)).toMatchObject({ ok: true });
    expect(backend.readRemembered(values[2] as string)).toMatchObject({ ok: true });
    expect(await backend.read(values[0] as string, 0)).toMatchObject({ ok: true, record: { id: 'a' } });
    expect(unseal).toHaveBeenCalledTimes(1);
  });

  it('gives every hit its own data, the first one and every later one', async () => {
    const { unseal, backend } = spiedBackend(2);
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    for (let hit = 0; hit < 3; hit++) {
      const read = await backend.read(cookieValue, 0);
      if (!read.ok) throw new Error('expected a hit');
      expect(read.record.data).toEqual({ list: [1] });
      (read.record.data.list as number[]).push(hit);
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
});
