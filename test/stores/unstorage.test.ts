import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from 'unstorage';
import fsDriver from 'unstorage/drivers/fs';
import memoryDriver from 'unstorage/drivers/memory';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogFields } from '../../src/core/events.ts';
import { createSessionManager } from '../../src/core/manager.ts';
import { type UnstorageLike, unstorageStore } from '../../src/stores/unstorage.ts';
import { testSecrets } from '../support/fixtures.ts';
import { describeStoreConformance } from './conformance.ts';

const directory = mkdtempSync(join(tmpdir(), 'sessionkit-unstorage-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function readTree(path: string): string {
  return statSync(path).isDirectory()
    ? readdirSync(path)
        .map((name) => `${name}\n${readTree(join(path, name))}`)
        .join('\n')
    : readFileSync(path, 'utf8');
}

describeStoreConformance('unstorage (memory driver)', async (clock) => {
  const storage = createStorage({ driver: memoryDriver() });
  return {
    // Two store instances over one storage: two app instances sharing one KV namespace.
    store: unstorageStore({ storage, now: clock.now }),
    second: unstorageStore({ storage, now: clock.now }),
    async dump() {
      const keys = await storage.getKeys();
      return JSON.stringify(await Promise.all(keys.map(async (key) => [key, await storage.getItem(key)])));
    },
    async afterDispose() {
      await storage.setItem('still-open', 'yes'); // the app's storage is not disposed
      expect(await storage.getItem('still-open')).toBe('yes');
    },
  };
});

// One instance: the fs driver is for single-process development (see the torn-write gap below).
describeStoreConformance('unstorage (fs driver)', async (clock) => {
  const base = join(directory, 'fs');
  const storage = createStorage({ driver: fsDriver({ base }) });
  return {
    store: unstorageStore({ storage, now: clock.now }),
    dump: async () => readTree(base),
    async afterDispose() {
      expect(await storage.hasItem('sessionkit:missing')).toBe(false); // the app's storage still answers
    },
  };
});

describe('unstorageStore: documented gaps', () => {
  it('declares that a plain key-value driver has no atomic patch, no exact user index, no native TTL', () => {
    const store = unstorageStore({ storage: createStorage({ driver: memoryDriver() }) });
    expect(store.capabilities).toEqual({ atomicPatch: false, userIndex: false, nativeTtl: false });
  });

  it('documented gap: concurrent patches of one session from two instances can lose a key', async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const one = unstorageStore({ storage });
    const two = unstorageStore({ storage });
    const base = { secretHash: 'h', userId: undefined, createdAt: 1, renewedAt: 1, expiresAt: 4e9, flash: {} };
    await one.create({ ...base, id: 'x', data: {} }, { deadline: 4e9 });
    const patch = (key: string) => ({
      setData: { [key]: true },
      unsetData: [],
      setFlash: {},
      unsetFlash: [],
      renewedAt: 2,
      expiresAt: 4e9,
    });
    await Promise.all([one.patch('x', patch('a')), two.patch('x', patch('b'))]);
    expect(Object.keys((await one.get('x'))!.data)).toEqual(['b']); // last writer wins: 'a' is lost
    await Promise.all([one.patch('x', patch('c')), one.patch('x', patch('d'))]);
    expect(Object.keys((await one.get('x'))!.data).sort()).toEqual(['b', 'c', 'd']); // one instance: serialised
  });

  it('documented gap: fs driver across processes can tear an item; it is rejected, never a 503', async () => {
    const base = join(directory, 'torn');
    const one = unstorageStore({ storage: createStorage({ driver: fsDriver({ base }) }) });
    const two = unstorageStore({ storage: createStorage({ driver: fsDriver({ base }) }) });
    const manager = (store: typeof one) => createSessionManager({ secrets: testSecrets[0], store });
    const [first, second] = [manager(one), manager(two)];
    const { session } = await first.load(null);
    session.set('userId', 'torn');
    const header = (await first.commit(session))[0]!.split(';')[0]!;
    await Promise.all(
      Array.from({ length: 40 }, async (_, index) => {
        const target = index % 2 === 0 ? first : second;
        const loaded = await target.load(header).catch(() => undefined);
        if (loaded?.status !== 'valid') return;
        loaded.session.set(`k${index}${'x'.repeat(index * 50)}`, index);
        await target.commit(loaded.session);
      }),
    );
    const after = await first.load(header); // never throws: valid (with lost keys) or rejected
    expect(['valid', 'rejected']).toContain(after.status);
  });

  it('keeps a __proto__ data key (values are stored as text, out of reach of JSON auto-parsing)', async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const store = unstorageStore({ storage });
    const data = JSON.parse('{"__proto__": {"admin": true}}') as Record<string, unknown>;
    await store.create(
      { id: 'p', secretHash: 'h', userId: undefined, createdAt: 1, renewedAt: 1, expiresAt: 4e9, data, flash: {} },
      { deadline: 4e9 },
    );
    const loaded = (await store.get('p'))!;
    expect(Object.hasOwn(loaded.data, '__proto__')).toBe(true);
    expect(({} as { admin?: boolean }).admin).toBeUndefined();
  });
});

describe('unstorageStore: regenerate() without a transaction', () => {
  const session = (id: string) => ({
    id,
    secretHash: 'h',
    userId: 'u',
    createdAt: 1,
    renewedAt: 1,
    expiresAt: 4e9,
    data: { n: 1 },
    flash: {},
  });

  /** A real (memory) storage with one fault injected: the first call of `method` on `key` lands, then fails. */
  function faultyOnce(method: 'setItem' | 'removeItem', key: string) {
    const storage = createStorage({ driver: memoryDriver() });
    let fired = false;
    const faulty: UnstorageLike = {
      getItem: (k) => storage.getItem(k),
      getKeys: (base) => storage.getKeys(base),
      async setItem(k, value, options) {
        await storage.setItem(k, value, options);
        if (method === 'setItem' && k === key && !fired) {
          fired = true;
          throw new Error('injected: the write landed but its answer was lost');
        }
      },
      async removeItem(k) {
        if (method === 'removeItem' && k === key && !fired) {
          fired = true;
          throw new Error('injected: the storage refused the removal');
        }
        await storage.removeItem(k);
      },
    };
    return { storage, faulty };
  }

  function captureLog() {
    const lines: string[] = [];
    const write = (message: string, fields?: LogFields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
    return { lines, logger: { warn: write, error: write } };
  }

  it('a failed write of the new session leaves the old one as it was; the new item is removed in the background', async () => {
    const { storage, faulty } = faultyOnce('setItem', 'sessionkit:s:new');
    const store = unstorageStore({ storage: faulty });
    await store.create(session('old'), { deadline: 4e9 });
    const error = await store.create(session('new'), { deadline: 4e9, replacing: 'old' }).catch((e: unknown) => e);
    expect(String(error)).toContain('injected');
    expect(await store.get('old')).toMatchObject({ id: 'old', data: { n: 1 } }); // the kept cookie works
    await expect.poll(() => storage.hasItem('sessionkit:s:new')).toBe(false);
    await store.dispose();
  });

  it('a failed removal of the old session still succeeds (the user gets the new cookie); the old one is removed later', async () => {
    const { storage, faulty } = faultyOnce('removeItem', 'sessionkit:s:old');
    const { lines, logger } = captureLog();
    const store = unstorageStore({ storage: faulty, logger });
    await store.create(session('old'), { deadline: 4e9 });
    expect(await store.create(session('new'), { deadline: 4e9, replacing: 'old' })).toBe(true);
    expect(await store.get('new')).toBeDefined();
    await expect.poll(() => storage.hasItem('sessionkit:s:old')).toBe(false);
    expect(lines.join('\n')).toContain('is left to the background');
    await store.dispose();
  });

  it('a failing sweep never fails the creation that triggered it; it is logged', async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const { lines, logger } = captureLog();
    const failingKeys: UnstorageLike = {
      getItem: (k) => storage.getItem(k),
      setItem: (k, value, options) => storage.setItem(k, value, options),
      removeItem: (k) => storage.removeItem(k),
      getKeys: () => Promise.reject(new Error('injected: listing keys failed')),
    };
    const store = unstorageStore({ storage: failingKeys, sweepEveryWrites: 1, logger });
    expect(await store.create(session('a'), { deadline: 4e9 })).toBe(true);
    await expect.poll(() => lines.join('\n')).toContain('sweep of expired sessions failed');
    await store.dispose();
  });
});
