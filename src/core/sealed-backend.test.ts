import { describe, expect, it, vi } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { defaultCookieCacheMaxEntries } from './cookie-cache.ts';
import type { CryptoEngine } from './crypto-engine.ts';
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

/**
 * A sealer for the `cookie` purpose on `engine`, and how many times it has opened a token
 * (with AES-GCM, waiting or not).
 */
function countingSealer(engine: CryptoEngine = 'auto') {
  const sealer = createSealer(createKeyRing(testSecrets[0]), 'cookie', { engine });
  const unseal = vi.spyOn(sealer, 'unseal');
  const unsealNow = vi.spyOn(sealer, 'unsealNow');
  const opened = () =>
    unseal.mock.calls.length + unsealNow.mock.results.filter((result) => result.value !== undefined).length;
  return { sealer, opened };
}

describe('sealed backend: remembered cookie values', () => {
  it('opens a value it wrote, or opened before, without AES-GCM, synchronously, each read with its own copy', async () => {
    const { sealer, opened } = countingSealer();
    const backend = createSealedBackend(sealer, 'sid');
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    const first = backend.readNow(cookieValue); // a remembered value loads synchronously
    expect(first).toMatchObject({ ok: true });
    const second = await backend.read(cookieValue, 0);
    expect(opened()).toBe(0);
    if (!first?.ok || !second.ok) throw new Error('expected both reads to succeed');
    (first.record.data.list as number[]).push(2);
    expect(second.record.data).toEqual({ list: [1] });

    const other = createSealedBackend(sealer, 'sid');
    expect(other.readNow(cookieValue)).toMatchObject({ ok: true }); // never seen here: AES-GCM first
    expect((await other.read(cookieValue, 0)).ok).toBe(true);
    expect(opened()).toBe(1);
  });

  it('opens an unseen value without waiting on node:crypto; on WebCrypto, only read() opens it', async () => {
    const node = countingSealer('node');
    const { cookieValue } = await createSealedBackend(node.sealer, 'sid').write(record('a'), noChanges, undefined);
    expect(createSealedBackend(node.sealer, 'sid').readNow(cookieValue)).toMatchObject({
      ok: true,
      record: { id: 'a' },
    });
    expect(node.opened()).toBe(1);

    const web = countingSealer('webcrypto');
    const written = await createSealedBackend(web.sealer, 'sid').write(record('b'), noChanges, undefined);
    const reader = createSealedBackend(web.sealer, 'sid');
    expect(reader.readNow(written.cookieValue)).toBeUndefined();
    expect(await reader.read(written.cookieValue, 0)).toMatchObject({ ok: true, record: { id: 'b' } });
    expect(reader.readNow(written.cookieValue)).toMatchObject({ ok: true, record: { id: 'b' } }); // now remembered
    expect(web.opened()).toBe(1);
  });

  it('answers a malformed, foreign or tampered value without waiting, as read() does', async () => {
    const { sealer } = countingSealer('node');
    const backend = createSealedBackend(sealer, 'sid');
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    const foreignSealer = createSealer(createKeyRing(testSecrets[1]), 'cookie');
    const foreign = (await createSealedBackend(foreignSealer, 'sid').write(record('x'), noChanges, undefined))
      .cookieValue;
    const middle = Math.floor(cookieValue.length / 2);
    const flipped = cookieValue[middle] === 'A' ? 'B' : 'A';
    const tampered = `${cookieValue.slice(0, middle)}${flipped}${cookieValue.slice(middle + 1)}`;
    const fresh = createSealedBackend(sealer, 'sid');
    for (const [value, reason] of [
      ['v1.not-base64!', 'malformed'],
      ['v2.abc', 'malformed'],
      [foreign, 'unknown_key'],
      [tampered, 'tampered'],
    ] as const) {
      expect(fresh.readNow(value)).toEqual({ ok: false, reason });
      expect(await fresh.read(value, 0)).toEqual({ ok: false, reason });
    }
  });

  it('never remembers a value that failed to open, and stays bounded', async () => {
    const { sealer, opened } = countingSealer();
    const backend = createSealedBackend(sealer, 'sid');
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    const tampered = `${cookieValue.slice(0, -2)}${cookieValue.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(await backend.read(tampered, 0)).toMatchObject({ ok: false });
    expect(await backend.read(tampered, 0)).toMatchObject({ ok: false });
    expect(opened()).toBe(2);
    for (let index = 0; index <= defaultCookieCacheMaxEntries; index++)
      await backend.write(record(`r${index}`), noChanges, undefined);
    expect((await backend.read(cookieValue, 0)).ok).toBe(true); // evicted, so opened again
    expect(opened()).toBe(3);
  });
});

function spiedBackend(maxEntries?: number) {
  const { sealer, opened } = countingSealer();
  return { opened, backend: createSealedBackend(sealer, 'sid', maxEntries) };
}

describe('sealed backend: cookieCache.maxEntries', () => {
  it('a hit opens the value without AES-GCM', async () => {
    const { opened, backend } = spiedBackend(2);
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    expect(await backend.read(cookieValue, 0)).toMatchObject({ ok: true, record: { id: 'a' } });
    expect(opened()).toBe(0);
  });

  it('evicts the oldest value once more than maxEntries are remembered', async () => {
    const { opened, backend } = spiedBackend(2);
    const values = [];
    for (const id of ['a', 'b', 'c']) values.push((await backend.write(record(id), noChanges, undefined)).cookieValue);
    expect(backend.readNow(values[1] as string)).toMatchObject({ ok: true });
    expect(backend.readNow(values[2] as string)).toMatchObject({ ok: true });
    expect(opened()).toBe(0);
    expect(await backend.read(values[0] as string, 0)).toMatchObject({ ok: true, record: { id: 'a' } });
    expect(opened()).toBe(1); // the oldest was evicted
  });

  it('gives every hit its own data, the first one and every later one', async () => {
    const { opened, backend } = spiedBackend(2);
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    for (let hit = 0; hit < 3; hit++) {
      const read = await backend.read(cookieValue, 0);
      if (!read.ok) throw new Error('expected a hit');
      expect(read.record.data).toEqual({ list: [1] });
      (read.record.data.list as number[]).push(hit);
    }
    expect(opened()).toBe(0);
  });

  it('hits take no slot: after reading the older value twice, both values stay remembered', async () => {
    const { opened, backend } = spiedBackend(2);
    const first = (await backend.write(record('a'), noChanges, undefined)).cookieValue;
    const second = (await backend.write(record('b'), noChanges, undefined)).cookieValue;
    expect(await backend.read(first, 0)).toMatchObject({ ok: true });
    expect(await backend.read(first, 0)).toMatchObject({ ok: true });
    expect(backend.readNow(first)).toMatchObject({ ok: true });
    expect(backend.readNow(second)).toMatchObject({ ok: true });
    expect(opened()).toBe(0);
  });

  it('0 turns the cache off: every read opens the value', async () => {
    const { opened, backend } = spiedBackend(0);
    const { cookieValue } = await backend.write(record('a'), noChanges, undefined);
    expect(backend.readNow(cookieValue)).toMatchObject({ ok: true });
    expect((await backend.read(cookieValue, 0)).ok).toBe(true);
    expect((await backend.read(cookieValue, 0)).ok).toBe(true);
    expect(opened()).toBe(3);
  });
});
