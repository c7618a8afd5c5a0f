import { once } from 'node:events';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessionKitError } from '../../src/core/errors.ts';
import type { SessionEvent } from '../../src/core/events.ts';
import { createSessionManager } from '../../src/core/manager.ts';
import { redisStore } from '../../src/stores/redis.ts';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { type Gate, gateMethods } from '../support/interleavings.ts';
import { ensureRedis, type OwnCluster, startOwnRedis, startRedisCluster } from '../support/services.ts';
import { describeStoreConformance } from './conformance.ts';

/** The client options docs/stores.md recommends: pipelined, and failing fast while disconnected. */
const recommended = { enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 } as const;

type AnyClient = Redis | Cluster;

async function ready(client: AnyClient): Promise<void> {
  if (client.status !== 'ready') await once(client, 'ready');
}

async function keysOf(client: AnyClient, pattern: string): Promise<string[]> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

async function dumpKeys(client: AnyClient, pattern: string): Promise<string> {
  const entries: unknown[] = [];
  for (const key of await keysOf(client, pattern)) {
    const type = await client.type(key);
    entries.push([key, type === 'string' ? await client.get(key) : await client.zrange(key, 0, -1, 'WITHSCORES')]);
  }
  return JSON.stringify(entries);
}

/** A client whose commands each pass `gate` first (delays injected between the store's steps). */
function gatedClient(client: AnyClient, gate: Gate): AnyClient {
  return gateMethods(client, ['get', 'evalsha', 'eval'], gate);
}

async function deleteKeys(client: AnyClient, pattern: string): Promise<void> {
  for (const key of await keysOf(client, pattern)) await client.del(key);
}

describeStoreConformance('redis (single node)', async () => {
  const { host, port } = await ensureRedis();
  const prefix = `sessionkit-test:${Math.random().toString(36).slice(2)}:`;
  const client = new Redis({ host, port, ...recommended });
  const other = new Redis({ host, port, ...recommended });
  await Promise.all([ready(client), ready(other)]);
  return {
    store: redisStore({ client, prefix }),
    second: redisStore({ client: other, prefix }),
    dump: () => dumpKeys(client, `${prefix}*`),
    gated: (gate) => [client, other].map((handle) => redisStore({ client: gatedClient(handle, gate), prefix })),
    async close() {
      await deleteKeys(client, `${prefix}*`);
      client.disconnect();
      other.disconnect();
    },
  };
});

describe('redis cluster (3 masters started by the test)', () => {
  let cluster: OwnCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  describeStoreConformance(
    'redis (3-master cluster)',
    async () => {
      const nodes = cluster.ports.map((port) => ({ host: '127.0.0.1', port }));
      const client = new Cluster(nodes, { enableAutoPipelining: true });
      const other = new Cluster(nodes, { enableAutoPipelining: true });
      await Promise.all([ready(client), ready(other)]);
      const store = redisStore({ client, prefix: 'sk:' });
      return {
        store,
        second: redisStore({ client: other, prefix: 'sk:' }),
        dump: () => dumpKeys(client, 'sk:*'),
        gated: (gate) =>
          [client, other].map((handle) => redisStore({ client: gatedClient(handle, gate), prefix: 'sk:' })),
        async close() {
          // Sessions really are spread over the masters (no single-slot shortcut).
          const perNode = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
          expect(perNode.filter((count) => count > 0).length).toBeGreaterThan(1);
          client.disconnect();
          other.disconnect();
        },
      };
    },
    { timeout: 60_000 },
  );
});

describe('redisStore specifics', () => {
  let client: Redis;
  const prefix = `sessionkit-test:${Math.random().toString(36).slice(2)}:`;
  beforeAll(async () => {
    const { host, port } = await ensureRedis();
    client = new Redis({ host, port, ...recommended });
    await ready(client);
  });
  afterAll(async () => {
    await deleteKeys(client, `${prefix}*`);
    client.disconnect();
  });

  it('uses native TTLs: the session hash expires at its expiresAt, the index with its newest deadline', async () => {
    const store = redisStore({ client, prefix });
    const now = Math.floor(Date.now() / 1000);
    await store.create(
      {
        id: 'ttl',
        secretHash: 'h',
        userId: 'ttl-user',
        createdAt: now,
        renewedAt: now,
        expiresAt: now + 100,
        data: {},
        flash: {},
      },
      { deadline: now + 1000 },
    );
    const sessionTtl = await client.pttl(store.sessionKey('ttl'));
    expect(sessionTtl).toBeGreaterThan(90_000);
    expect(sessionTtl).toBeLessThanOrEqual(100_000);
    const indexTtl = await client.ttl(store.userKey('ttl-user'));
    expect(indexTtl).toBeGreaterThan(990);
    expect(indexTtl).toBeLessThanOrEqual(1000);
  });

  it('keeps one document entry per data key; a session never holds the token secret', async () => {
    const manager = createSessionManager({ secrets: testSecrets[0], store: redisStore({ client, prefix }) });
    const { session } = await manager.load(null);
    session.set('userId', 'fields');
    session.set('cart', { items: [1] });
    const token = (await manager.commit(session))[0]!.split(';')[0]!.split('=')[1]!;
    const text = (await client.get(`${prefix}s:{${session.id}}`))!;
    expect(Object.keys(JSON.parse(text)).sort()).toEqual(['c', 'd:cart', 'd:userId', 'e', 'h', 'r', 'u', 'v']);
    expect(text.split('\n')).toContain(',"d:cart"');
    expect(text).not.toContain(token.slice(44));
  });

  it('patches large sessions and exact big numbers (no JSON parsing in Lua)', async () => {
    const store = redisStore({ client, prefix });
    const now = Math.floor(Date.now() / 1000);
    const data = Object.fromEntries(Array.from({ length: 3000 }, (_, index) => [`k${index}`, index]));
    await store.create(
      {
        id: 'big',
        secretHash: 'h',
        userId: undefined,
        createdAt: now,
        renewedAt: now,
        expiresAt: now + 100,
        data,
        flash: {},
      },
      { deadline: now + 100 },
    );
    const setData = Object.fromEntries(Array.from({ length: 2500 }, (_, index) => [`n${index}`, 2 ** 53 - 1 - index]));
    const unsetData = Array.from({ length: 2500 }, (_, index) => `k${index}`);
    expect(
      await store.patch('big', {
        setData,
        unsetData,
        setFlash: {},
        unsetFlash: [],
        renewedAt: now,
        expiresAt: now + 100,
      }),
    ).toBe(true);
    const loaded = (await store.get('big'))!.data;
    expect(Object.keys(loaded)).toHaveLength(3000);
    expect(loaded.n0).toBe(2 ** 53 - 1);
    expect(loaded.k2999).toBe(2999);
    expect(loaded.k0).toBeUndefined();
  });

  it('rejects a client that is not ioredis-shaped, and braces in the prefix', () => {
    expect(() => redisStore({ client: {} as never })).toThrow(/ioredis/);
    expect(() => redisStore({ client, prefix: '{x}' })).toThrow(/hash tags/);
  });
});

describe('redis outage (own redis-server, stopped and restarted)', () => {
  it('fails fast with ERR_STORE_UNAVAILABLE, keeps the cookie, and recovers by itself', {
    timeout: 60_000,
  }, async () => {
    const server = await startOwnRedis();
    const client = new Redis({
      host: '127.0.0.1',
      port: server.port,
      ...recommended,
      retryStrategy: () => 100,
    });
    client.on('error', () => {}); // connection errors are expected here; ioredis would log them
    const events: SessionEvent[] = [];
    try {
      await ready(client);
      const manager = createSessionManager({
        secrets: testSecrets[0],
        store: redisStore({ client }),
        onEvent: (event) => events.push(event),
      });
      const jar = new CookieJar();
      const created = await manager.load(null);
      created.session.set('userId', 'outage-user');
      jar.apply(await manager.commit(created.session));
      const header = jar.header();
      const pending = await manager.load(header);
      expect(pending.status).toBe('valid');
      pending.session.set('later', 1);

      // 1. Outage without persistence: requests fail fast, nothing is cleared, and the client
      //    reconnects on its own once a server is back (the data itself is gone with that server).
      await server.shutdown('nosave');
      const started = Date.now();
      const loadError = await manager.load(header).catch((error: unknown) => error);
      const commitError = await manager.commit(pending.session).catch((error: unknown) => error);
      expect(Date.now() - started).toBeLessThan(2000);
      for (const error of [loadError, commitError]) {
        expect(isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
        expect((error as { status: number }).status).toBe(503);
        expect((error as { cause: unknown }).cause).toBeInstanceOf(Error);
      }
      expect(events.filter((event) => event.type === 'store.unavailable').map((event) => event)).toEqual([
        { type: 'store.unavailable', operation: 'get' },
        { type: 'store.unavailable', operation: 'patch' },
      ]);
      expect(jar.header()).toBe(header); // no Set-Cookie was produced: the cookie survives
      await server.start();
      await ready(client);
      expect(await manager.load(header)).toMatchObject({ status: 'rejected', reason: 'revoked' });
      const fresh = await manager.load(null);
      fresh.session.set('userId', 'outage-user');
      const freshJar = new CookieJar().apply(await manager.commit(fresh.session));
      expect((await manager.load(freshJar.header())).status).toBe('valid');

      // 2. Outage of a server that keeps its data (SHUTDOWN SAVE + restart from the snapshot):
      //    the very same cookie works again afterwards, with its data: no session was lost.
      const before = await manager.load(freshJar.header());
      before.session.set('cart', ['book']);
      freshJar.apply(await manager.commit(before.session));
      await server.shutdown('save');
      const during = await manager.load(freshJar.header()).catch((error: unknown) => error);
      expect(isSessionKitError(during, 'ERR_STORE_UNAVAILABLE')).toBe(true);
      await server.start();
      await ready(client);
      const after = await manager.load(freshJar.header());
      expect(after.status).toBe('valid');
      expect(after.session.data).toMatchObject({ userId: 'outage-user', cart: ['book'] });
      after.session.set('afterOutage', true);
      expect(await manager.commit(after.session)).toHaveLength(1); // scripts are re-sent after NOSCRIPT
      expect((await manager.load(freshJar.header())).session.get('afterOutage')).toBe(true);
    } finally {
      client.disconnect();
      await server.destroy();
    }
  });
});
