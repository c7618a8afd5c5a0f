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
