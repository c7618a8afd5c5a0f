import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { isSessionKitError, type SessionKitError } from '../../src/core/errors.ts';
import { createKeyRing } from '../../src/core/keyring.ts';
import { createSessionManager, type StoreSessionManager } from '../../src/core/manager.ts';
import { encryptStore } from '../../src/stores/encrypt.ts';
import { memoryStore } from '../../src/stores/memory.ts';
import { sqliteStore } from '../../src/stores/sqlite.ts';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { describeStoreConformance } from './conformance.ts';

describeStoreConformance('encryptStore(memory)', async (clock) => {
  const inner = memoryStore({ now: clock.now });
  return { store: encryptStore(inner, { keyRing: createKeyRing(testSecrets[0]) }), dump: async () => inner.dump() };
});

describeStoreConformance('encryptStore(sqlite)', async () => {
  const database = new DatabaseSync(':memory:');
  const keyRing = createKeyRing(testSecrets[0]);
  return {
    store: encryptStore(sqliteStore({ database }), { keyRing }),
    dump: async () => JSON.stringify(database.prepare('SELECT * FROM sessionkit_sessions').all()),
  };
});

describe('encryptStore', () => {
  async function signIn(manager: StoreSessionManager) {
    const request = new Request('https://app.test/', { headers: { 'user-agent': 'SecretBrowser/1.0' } });
    const { session } = await manager.load(request);
    session.set('userId', 'enc-user');
    session.set('email', 'alice@example.test');
    session.flash('notice', 'welcome-flash');
    manager.describe(session, { ip: '198.51.100.77' });
    return { jar: new CookieJar().apply(await manager.commit(session)), id: session.id };
  }

  it('the raw store holds no plaintext value, user agent or ip; reads and listings decrypt', async () => {
    const inner = memoryStore();
    const keyRing = createKeyRing(testSecrets[0]);
    const manager = createSessionManager({ secrets: keyRing, store: encryptStore(inner, { keyRing }) });
    const { jar } = await signIn(manager);
    const raw = inner.dump();
    for (const plain of ['alice@example.test', 'welcome-flash', 'SecretBrowser', '198.51.100.77']) {
      expect(raw).not.toContain(plain);
    }
    expect(raw).not.toContain('enc-user'); // the index holds a keyed hash of the user id
    expect(await inner.listByUser('enc-user', Math.floor(Date.now() / 1000))).toEqual([]);
    expect((await manager.load(jar.header())).session.data).toMatchObject({ email: 'alice@example.test' });
    expect(await manager.listSessions('enc-user')).toEqual([
      expect.objectContaining({ userAgent: 'SecretBrowser/1.0', ip: '198.51.100.77' }),
    ]);
    expect(await manager.revokeUserSessions('enc-user')).toBe(1);
    expect(await manager.load(jar.header())).toMatchObject({ status: 'rejected', reason: 'revoked' });
  });

  it('the index hash is keyed: another secret gives another hash, so the store alone cannot confirm a guessed id', async () => {
    const inner = memoryStore();
    const one = createKeyRing(testSecrets[0]);
    const other = createKeyRing(testSecrets[1]);
    await signIn(createSessionManager({ secrets: one, store: encryptStore(inner, { keyRing: one }) }));
    await signIn(createSessionManager({ secrets: other, store: encryptStore(inner, { keyRing: other }) }));
    const owners = JSON.parse(inner.dump()) as { userId?: string }[] | Record<string, { userId?: string }>;
    const hashes = new Set(Object.values(owners).map((row) => JSON.stringify(row).match(/"userId":"([^"]+)"/)?.[1]));
    expect(hashes.size).toBe(2);
    for (const hash of hashes) expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('after a key rotation, sessions indexed under the old key are still listed and revoked', async () => {
    const inner = memoryStore();
    const oldRing = createKeyRing(testSecrets[1]);
    const before = createSessionManager({ secrets: oldRing, store: encryptStore(inner, { keyRing: oldRing }) });
    const { jar: oldJar } = await signIn(before);
    const rotatedRing = createKeyRing([testSecrets[0], testSecrets[1]]);
    const rotated = createSessionManager({
      secrets: rotatedRing,
      store: encryptStore(inner, { keyRing: rotatedRing }),
    });
    const { jar: newJar } = await signIn(rotated);
    expect(await rotated.listSessions('enc-user')).toHaveLength(2);
    expect(await rotated.revokeUserSessions('enc-user')).toBe(2);
    for (const jar of [oldJar, newJar]) {
      expect(await rotated.load(jar.header())).toMatchObject({ status: 'rejected', reason: 'revoked' });
    }
  });

  it('rows written with a readable user id (before the index was hashed) are still listed and revoked', async () => {
    const inner = memoryStore();
    const keyRing = createKeyRing(testSecrets[0]);
    const manager = createSessionManager({ secrets: keyRing, store: encryptStore(inner, { keyRing }) });
    const { id } = await signIn(manager);
    const row = (await inner.get(id))!;
    const legacyId = 'legacy-session-id';
    await inner.create({ ...row, id: legacyId, userId: 'enc-user' }, { deadline: row.expiresAt + 3600 });
    const listed = await manager.listSessions('enc-user');
    expect(listed.map((info) => info.id).sort()).toEqual([id, legacyId].sort());
    expect(await manager.revokeUserSessions('enc-user')).toBe(2);
  });

  it('revoke-all failing on one index lookup still reports what the other lookups revoked', async () => {
    const inner = memoryStore();
    const keyRing = createKeyRing(testSecrets[0]);
    const manager = createSessionManager({ secrets: keyRing, store: encryptStore(inner, { keyRing }) });
    const { id } = await signIn(manager);
    const row = (await inner.get(id))!;
    await inner.create({ ...row, id: 'legacy-session-id', userId: 'enc-user' }, { deadline: row.expiresAt + 3600 });
    // The lookup under the readable id (rows from before hashing) fails; the hashed one succeeds.
    const deleteByUser = inner.deleteByUser.bind(inner);
    inner.deleteByUser = async (userId, exceptId) => {
      if (userId === 'enc-user') throw new Error('connection reset');
      return deleteByUser(userId, exceptId);
    };
    const error = await manager.revokeUserSessions('enc-user').catch((caught: unknown) => caught);
    expect(isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
    expect((error as SessionKitError).revocation).toEqual({ revokedSessionIds: [id], complete: false });
    expect(await inner.get(id)).toBeUndefined();
    inner.deleteByUser = deleteByUser;
    expect(await manager.revokeUserSessions('enc-user')).toBe(1); // the retry revokes the rest
  });

  it('a change of owner moves the session between users in the index', async () => {
    const inner = memoryStore();
    const keyRing = createKeyRing(testSecrets[0]);
    const manager = createSessionManager({ secrets: keyRing, store: encryptStore(inner, { keyRing }) });
    const { jar } = await signIn(manager);
    const { session } = await manager.load(jar.header());
    session.set('userId', 'next-user');
    jar.apply(await manager.commit(session));
    expect(await manager.listSessions('enc-user')).toEqual([]);
    expect(await manager.listSessions('next-user')).toHaveLength(1);
    expect((await manager.load(jar.header())).session.get('userId')).toBe('next-user');
  });

  it('a value moved to another key or session does not open (tampered)', async () => {
    const inner = memoryStore();
    const keyRing = createKeyRing(testSecrets[0]);
    const store = encryptStore(inner, { keyRing });
    const manager = createSessionManager({ secrets: keyRing, store });
    const { jar, id } = await signIn(manager);
    const row = (await inner.get(id))!;
    await inner.patch(id, {
      setData: { userId: row.data.email },
      unsetData: [],
      setFlash: {},
      unsetFlash: [],
      renewedAt: row.renewedAt,
      expiresAt: row.expiresAt,
    });
    expect(await manager.load(jar.header())).toMatchObject({ status: 'rejected', reason: 'tampered' });
  });

  it('key rotation: a new key first still reads old values; a removed key is reported as unknown_key', async () => {
    const inner = memoryStore();
    const oldRing = createKeyRing(testSecrets[1]);
    const before = createSessionManager({ secrets: oldRing, store: encryptStore(inner, { keyRing: oldRing }) });
    const { jar } = await signIn(before);
    const rotatedRing = createKeyRing([testSecrets[0], testSecrets[1]]);
    const rotated = createSessionManager({
      secrets: rotatedRing,
      store: encryptStore(inner, { keyRing: rotatedRing }),
    });
    expect((await rotated.load(jar.header())).session.get('email')).toBe('alice@example.test');
    const onlyNew = createKeyRing(testSecrets[2]);
    const after = createSessionManager({ secrets: onlyNew, store: encryptStore(inner, { keyRing: onlyNew }) });
    expect(await after.load(jar.header())).toMatchObject({ status: 'rejected', reason: 'unknown_key' });
  });

  it('requires a key ring', () => {
    expect(() => encryptStore(memoryStore(), {} as never)).toThrow(/keyRing/);
  });
});
