import { describe, expect, it } from 'vitest';
import { CookieJar, testSecrets } from '../../test/support/fixtures.ts';
import { memoryStore } from '../stores/memory.ts';
import { isSessionKitError, type SessionKitError } from './errors.ts';
import type { SessionEvent } from './events.ts';
import { createSessionManager } from './manager.ts';
import { StoredSessionsPartlyDeleted } from './store.ts';
import { parseStoreToken } from './store-backend.ts';

describe('store mode of createSessionManager', () => {
  it('revocation APIs do not exist on the cookie-mode type, and throw ERR_CONFIG_INVALID if called anyway', async () => {
    const manager = createSessionManager({ secrets: testSecrets[0] });
    expect(manager.mode).toBe('cookie');
    const { session } = await manager.load(null);
    for (const call of [
      // @ts-expect-error cookie mode has no listSessions
      () => manager.listSessions('u'),
      // @ts-expect-error cookie mode has no revokeSession
      () => manager.revokeSession('x'),
      // @ts-expect-error cookie mode has no revokeUserSessions
      () => manager.revokeUserSessions('u'),
      // @ts-expect-error cookie mode has no describe
      () => manager.describe(session, { ip: '127.0.0.1' }),
    ]) {
      let caught: unknown;
      try {
        await call();
      } catch (error) {
        caught = error;
      }
      expect(isSessionKitError(caught, 'ERR_CONFIG_INVALID')).toBe(true);
      expect(String(caught)).toMatch(/cookies, which cannot be listed or revoked/);
    }
  });

  it('validates the store options at construction', () => {
    const store = memoryStore();
    expect(() => createSessionManager({ secrets: testSecrets[0], store, backend: () => ({}) as never })).toThrow(
      /either "store" or "backend"/,
    );
    expect(() => createSessionManager({ secrets: testSecrets[0], store: {} as never })).toThrow(/session store/);
    expect(() => createSessionManager({ secrets: testSecrets[0], userIdKey: 'uid' })).toThrow(/needs "store"/);
    expect(() => createSessionManager({ secrets: testSecrets[0], stor: store } as never)).toThrow(
      /Did you mean "store"/,
    );
  });

  it('indexes by a custom userIdKey, and records the user agent and a described ip', async () => {
    const manager = createSessionManager({ secrets: testSecrets[0], store: memoryStore(), userIdKey: 'uid' });
    const request = new Request('https://app.test/login', { headers: { 'user-agent': `UA ${'x'.repeat(400)}` } });
    const { session } = await manager.load(request);
    session.set('uid', 42);
    const jar = new CookieJar().apply(await manager.commit(session));
    const [info] = await manager.listSessions('42');
    expect(info).toMatchObject({ id: session.id, lastSeenAt: session.createdAt });
    expect(info!.userAgent).toHaveLength(256);
    expect(info!.ip).toBeUndefined();
    const loaded = await manager.load(jar.header());
    manager.describe(loaded.session, { ip: '192.0.2.1', userAgent: 'Later/2' });
    expect(await manager.commit(loaded.session)).toHaveLength(1);
    expect(await manager.listSessions('42')).toEqual([
      expect.objectContaining({ id: session.id, ip: '192.0.2.1', userAgent: 'Later/2' }),
    ]);
    const again = await manager.load(new Request('https://app.test/', { headers: { cookie: jar.header() } }));
    expect(await manager.commit(again.session)).toEqual([]); // an unchanged request writes nothing
  });

  it('records the user agent of the request that creates or regenerates a session, not of plain writes', async () => {
    const manager = createSessionManager({ secrets: testSecrets[0], store: memoryStore() });
    const first = await manager.load(new Request('https://app.test/', { headers: { 'user-agent': 'First/1' } }));
    first.session.set('userId', 'u1');
    const jar = new CookieJar().apply(await manager.commit(first.session));
    const from = (agent: string) =>
      new Request('https://app.test/', { headers: { cookie: jar.header(), 'user-agent': agent } });
    const plain = await manager.load(from('Second/2'));
    plain.session.set('count', 1);
    jar.apply(await manager.commit(plain.session));
    expect((await manager.listSessions('u1')).map((info) => info.userAgent)).toEqual(['First/1']);
    const rotated = await manager.load(from('Third/3'));
    rotated.session.regenerate();
    jar.apply(await manager.commit(rotated.session));
    expect(await manager.listSessions('u1')).toEqual([
      expect.objectContaining({ id: rotated.session.id, userAgent: 'Third/3' }),
    ]);
  });

  it('revokeUserSessions accepts the current session handle as the one to keep', async () => {
    const manager = createSessionManager({ secrets: testSecrets[0], store: memoryStore() });
    const jars = await Promise.all(
      [1, 2, 3].map(async () => {
        const { session } = await manager.load(null);
        session.set('userId', 'keep');
        return new CookieJar().apply(await manager.commit(session));
      }),
    );
    const current = await manager.load(jars[0]!.header());
    expect(await manager.revokeUserSessions('keep', { except: current.session })).toBe(2);
    expect((await manager.listSessions('keep')).map((info) => info.id)).toEqual([current.session.id]);
  });

  it('revokeUserSessions that fails part-way reports what it revoked, and a retry revokes the rest', async () => {
    const inner = memoryStore();
    let failing = true;
    // The fault: deleteByUser deletes one session, then the engine "fails" (as a Redis Cluster
    // shard does during a failover; the real one is in test/stores/redis-cluster.test.ts).
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        if (property !== 'deleteByUser') return Reflect.get(target, property, receiver);
        return async (userId: string, exceptId?: string) => {
          if (!failing) return target.deleteByUser(userId, exceptId);
          const [first] = await target.listByUser(userId, 0);
          await target.delete(first!.id);
          throw new StoredSessionsPartlyDeleted([first!.id], new Error('CLUSTERDOWN The cluster is down'));
        };
      },
    });
    const events: SessionEvent[] = [];
    const manager = createSessionManager({ secrets: testSecrets[0], store, onEvent: (event) => events.push(event) });
    for (let index = 0; index < 3; index++) {
      const { session } = await manager.load(null);
      session.set('userId', 'partly');
      await manager.commit(session);
    }
    const error = await manager.revokeUserSessions('partly').catch((caught: unknown) => caught);
    expect(isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
    const { revocation, status, cause } = error as SessionKitError;
    expect(status).toBe(503);
    expect(revocation?.complete).toBe(false);
    expect(revocation?.revokedSessionIds).toHaveLength(1);
    expect(String(cause)).toContain('CLUSTERDOWN');
    expect(events.filter((event) => event.type === 'session.revoked')).toEqual([
      { type: 'session.revoked', sessionId: revocation!.revokedSessionIds[0], userId: 'partly' },
    ]);
    failing = false;
    expect(await manager.revokeUserSessions('partly')).toBe(2);
    expect(await manager.listSessions('partly')).toEqual([]);
  });

  it('revokeUserSessions that fails before revoking anything says so (revokedSessionIds: [])', async () => {
    const store = new Proxy(memoryStore(), {
      get(target, property, receiver) {
        if (property === 'deleteByUser') return () => Promise.reject(new Error('ECONNREFUSED'));
        return Reflect.get(target, property, receiver);
      },
    });
    const manager = createSessionManager({ secrets: testSecrets[0], store });
    const error = (await manager.revokeUserSessions('nobody').catch((caught: unknown) => caught)) as SessionKitError;
    expect(error.code).toBe('ERR_STORE_UNAVAILABLE');
    expect(error.revocation).toEqual({ revokedSessionIds: [], complete: false });
    expect(error.hint).toMatch(/again is safe/);
  });

  it('never puts the token or its secret into events or log lines', async () => {
    const events: SessionEvent[] = [];
    const lines: string[] = [];
    const log = (message: string, fields?: unknown) => lines.push(`${message} ${JSON.stringify(fields)}`);
    const manager = createSessionManager({
      secrets: testSecrets[0],
      store: memoryStore(),
      onEvent: (event) => events.push(event),
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const { session } = await manager.load(null);
    session.set('userId', 'audited');
    const jar = new CookieJar().apply(await manager.commit(session));
    const token = jar.get('__Host-session')!;
    const loaded = await manager.load(jar.header());
    loaded.session.regenerate();
    jar.apply(await manager.commit(loaded.session));
    await manager.load(`__Host-session=${token}`);
    await manager.revokeUserSessions('audited');
    const everything = JSON.stringify(events) + lines.join('\n');
    expect(events.map((event) => event.type)).toEqual([
      'session.created',
      'session.rotated',
      'session.rejected',
      'session.revoked',
    ]);
    expect(everything).not.toContain(token.slice(44));
    expect(everything).not.toContain(jar.get('__Host-session')!.slice(44));
  });
});

describe('parseStoreToken', () => {
  const part = 'A'.repeat(43);
  it('accepts exactly two canonical 32-byte base64url halves', () => {
    expect(parseStoreToken(`${part}.${part}`)).toMatchObject({ id: part });
    for (const bad of [
      '',
      part,
      `${part}.${part}.`,
      `${part}:${part}`,
      `${part}.${'A'.repeat(42)}B`,
      `=${part.slice(1)}.${part}`,
    ]) {
      expect(parseStoreToken(bad)).toBeUndefined();
    }
  });
});
