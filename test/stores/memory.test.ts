import { describe, expect, it } from 'vitest';
import type { StoredSession } from '../../src/core/store.ts';
import { memoryStore } from '../../src/stores/memory.ts';
import { describeStoreConformance } from './conformance.ts';

describeStoreConformance('memory', async (clock) => {
  const store = memoryStore({ now: clock.now });
  return {
    store,
    dump: async () => store.dump(),
    async afterDispose() {
      expect(store.size).toBe(0);
    },
  };
});

/** A stored session `id` of `userId` that lives until 2096, with `data` and `flash`. */
function row(
  id: string,
  userId: string | undefined,
  data: Record<string, unknown> = {},
  flash: Record<string, unknown> = {},
): StoredSession {
  return { id, secretHash: 'h', userId, createdAt: 1, renewedAt: 1, expiresAt: 4_000_000_000, data, flash };
}

describe('memoryStore', () => {
  it('is bounded: the least recently used entry is evicted beyond maxEntries', async () => {
    const store = memoryStore({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c']) await store.create(row(id, 'u'), { deadline: 4_000_000_000 });
    await store.get('a'); // a becomes most recently used
    await store.create(row('d', 'u'), { deadline: 4_000_000_000 });
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect((await store.listByUser('u', 0)).map((info) => info.id).sort()).toEqual(['a', 'c', 'd']);
  });

  it('evicts anonymous sessions before signed-in ones, so an anonymous flood cannot push users out', async () => {
    const store = memoryStore({ maxEntries: 3 });
    await store.create(row('signed-in', 'u'), { deadline: 4_000_000_000 });
    for (let index = 0; index < 50; index++)
      await store.create(row(`anon-${index}`, undefined), { deadline: 4_000_000_000 });
    expect(store.size).toBe(3);
    expect(await store.get('signed-in')).toBeDefined();
    expect(await store.get('anon-49')).toBeDefined();
    expect(await store.get('anon-0')).toBeUndefined();
  });

  it("keeps each user's index exact as the user goes from one session to several and back to none", async () => {
    const store = memoryStore();
    const listed = async (userId: string) => (await store.listByUser(userId, 0)).map((info) => info.id).sort();
    await store.create(row('a', 'u', { n: 'a' }), { deadline: 4_000_000_000 });
    await store.create(row('a', 'u', { n: 'a' }), { deadline: 4_000_000_000 }); // written again: still one
    expect(await listed('u')).toEqual(['a']);
    for (const id of ['b', 'c']) await store.create(row(id, 'u', { n: id }), { deadline: 4_000_000_000 });
    await store.create(row('x', 'v', { n: 'x' }, { notice: 'hi' }), { deadline: 4_000_000_000 });
    expect(await listed('u')).toEqual(['a', 'b', 'c']);
    await store.delete('b');
    await store.delete('a');
    expect(await listed('u')).toEqual(['c']);
    const patch = { setData: { n: 'c2' }, unsetData: [], setFlash: { notice: 'again' }, unsetFlash: [] };
    expect(await store.patch('c', { ...patch, renewedAt: 2, expiresAt: 4_000_000_000 })).toBe(true);
    expect(await store.get('c')).toMatchObject({ data: { n: 'c2' }, flash: { notice: 'again' } });
    expect(await store.deleteByUser('u', undefined)).toEqual(['c']);
    expect(await listed('u')).toEqual([]);
    expect(await listed('v')).toEqual(['x']);
    expect(await store.get('x')).toMatchObject({ flash: { notice: 'hi' } });
    await store.create(row('d', 'u', { n: 'd' }), { deadline: 4_000_000_000 });
    expect(await listed('u')).toEqual(['d']);
  });

  it('drops expired entries on read and on sweep', async () => {
    let now = 1_000_000;
    const store = memoryStore({ now: () => now });
    const base = { secretHash: 'h', userId: undefined, createdAt: 1000, renewedAt: 1000, data: {}, flash: {} };
    await store.create({ ...base, id: 'a', expiresAt: 1010 }, { deadline: 1010 });
    await store.create({ ...base, id: 'b', expiresAt: 1010 }, { deadline: 1010 });
    now = 1_010_000;
    expect(await store.get('a')).toBeUndefined();
    expect(store.size).toBe(1);
    expect(await store.sweep()).toBe(1);
    expect(store.size).toBe(0);
  });

  it('never shares objects between reads', async () => {
    const store = memoryStore();
    const data = { cart: { items: ['a'] } };
    await store.create(
      { id: 'x', secretHash: 'h', userId: undefined, createdAt: 1, renewedAt: 1, expiresAt: 4e9, data, flash: {} },
      { deadline: 4e9 },
    );
    data.cart.items.push('mutated after write');
    const first = await store.get('x');
    (first!.data.cart as { items: string[] }).items.push('mutated after read');
    expect((await store.get('x'))!.data).toEqual({ cart: { items: ['a'] } });
  });

  it('rejects bad options', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => memoryStore({ maxEntrys: 1 } as never)).toThrow(/Did you mean "maxEntries"/);
  });
});
