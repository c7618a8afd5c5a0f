import { once } from 'node:events';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessionKitError, type SessionKitError } from '../../src/core/errors.ts';
import type { LogFields, SessionEvent } from '../../src/core/events.ts';
import { createSessionManager } from '../../src/core/manager.ts';
import type { SessionPatch, StoredSession } from '../../src/core/store.ts';
import { type ScriptName, sha1Of } from '../../src/stores/redis/scripts.ts';
import { type RedisClientLike, redisStore } from '../../src/stores/redis.ts';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { type Gate, gateMethods } from '../support/interleavings.ts';
import { ensureRedis, type OwnCluster, type OwnRedis, startOwnRedis, startRedisCluster } from '../support/services.ts';
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

  it('a plain Redis client pointed at one node fails with a message that names the fix (not a bare MOVED)', async () => {
    const plain = new Redis({ host: '127.0.0.1', port: cluster.ports[0]!, ...recommended });
    try {
      await ready(plain);
      const manager = createSessionManager({ secrets: testSecrets[0], store: redisStore({ client: plain }) });
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const { session } = await manager.load(null);
          session.set('userId', 'misconfigured');
          return manager.commit(session).catch((error: unknown) => error);
        }),
      );
      const failures = outcomes.filter((outcome) => isSessionKitError(outcome, 'ERR_STORE_UNAVAILABLE'));
      expect(failures.length).toBeGreaterThan(0); // 2 of 3 slots live on other masters
      for (const failure of failures) {
        expect(String((failure as Error).cause)).toMatch(
          /answered "MOVED \d+ [\d.:]+": the server is a Redis Cluster node\. Pass an ioredis Cluster client/,
        );
      }
    } finally {
      plain.disconnect();
    }
  });
});

/** A stored session `id` of `userId`, created `now` and expiring 100 s later. */
const row = (id: string, userId: string | undefined, now = Math.floor(Date.now() / 1000)): StoredSession => ({
  id,
  secretHash: 'h',
  userId,
  createdAt: now,
  renewedAt: now,
  expiresAt: now + 100,
  data: { n: 1 },
  flash: {},
});

/**
 * `client`, with one script call on one key replaced, once: it fails, or runs `before`
 * first (another request acting between two steps of the store).
 */
function withFault(
  client: Redis,
  script: ScriptName,
  key: string,
  fault: { fail: true } | { before: () => Promise<unknown> },
): RedisClientLike {
  let done = false;
  return {
    get: (k) => client.get(k),
    eval: (source, numKeys, ...args) => client.eval(source, numKeys, ...args),
    async evalsha(sha1, numKeys, ...args) {
      if (!done && sha1 === sha1Of[script] && args[0] === key) {
        done = true;
        if ('fail' in fault) throw new Error(`injected: ${script} failed`);
        await fault.before();
      }
      return client.evalsha(sha1, numKeys, ...args);
    },
  };
}

/** A logger that keeps what a store logs (warnings and errors), one line each. */
function captureLog() {
  const lines: string[] = [];
  const write = (message: string, fields?: LogFields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, logger: { warn: write, error: write } };
}

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

  it('rejects a client that is not ioredis-shaped, braces in the prefix, and bad limits', () => {
    expect(() => redisStore({ client: {} as never })).toThrow(/ioredis/);
    expect(() => redisStore({ client, prefix: '{x}' })).toThrow(/hash tags/);
    expect(() => redisStore({ client, operationTimeoutMs: 0 })).toThrow(/operationTimeoutMs must be a number/);
    const own = client as unknown as Redis; // a second connection is not needed to check options
    expect(() => redisStore({ client, waitForReplicas: { replicas: 1, timeoutMs: 1000, client: own } })).toThrow(
      /waitForReplicas.timeoutMs must be a number between 1 and 999/,
    );
    expect(() => redisStore({ client, waitForReplicas: { replica: 1 } as never })).toThrow(/Did you mean "replicas"/);
    // WAIT blocks its connection: the shared client is refused, with the fix.
    expect(() => redisStore({ client, waitForReplicas: { replicas: 1, timeoutMs: 100, client: own } })).toThrow(
      /waitForReplicas.client must be an ioredis connection of its own[\s\S]*client\.duplicate\(\)/,
    );
  });

  const patchOf = (extra: Partial<SessionPatch> = {}): SessionPatch => {
    const now = Math.floor(Date.now() / 1000);
    return { setData: {}, unsetData: [], setFlash: {}, unsetFlash: [], renewedAt: now, expiresAt: now + 100, ...extra };
  };

  it('a deleted session leaves a tombstone until it would have expired: its id never comes back', async () => {
    const store = redisStore({ client, prefix });
    const now = Math.floor(Date.now() / 1000);
    expect(await store.create(row('tomb', 'tomb-user'), { deadline: now + 1000 })).toBe(true);
    expect(await store.delete('tomb')).toBe(true);
    expect(await client.get(store.sessionKey('tomb'))).toBe('revoked');
    const ttl = await client.pttl(store.sessionKey('tomb'));
    expect(ttl).toBeGreaterThan(90_000);
    expect(ttl).toBeLessThanOrEqual(100_000);
    expect(await store.get('tomb')).toBeUndefined();
    expect(await store.delete('tomb')).toBe(false);
    expect(await store.patch('tomb', patchOf({ setData: { late: true } }))).toBe(false);
    // A create of that id sent again (a client retrying a command) does not bring it back.
    expect(await store.create(row('tomb', 'tomb-user'), { deadline: now + 1000 })).toBe(false);
    expect(await client.get(store.sessionKey('tomb'))).toBe('revoked');
    // Nor does the rotation of a deleted session.
    expect(await store.create(row('tomb-next', 'tomb-user'), { deadline: now + 1000, replacing: 'tomb' })).toBe(false);
    expect(await store.get('tomb-next')).toBeUndefined();
  });

  it('a sign-in whose new session cannot be written leaves the old one as it was (the kept cookie works)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const plain = redisStore({ client, prefix });
    const store = redisStore({
      client: withFault(client, 'create', plain.sessionKey('rot1-new'), { fail: true }),
      prefix,
    });
    await store.create(row('rot1-old', undefined), { deadline: now + 1000 });
    const error = await store
      .create(row('rot1-new', 'rot-user'), { deadline: now + 1000, replacing: 'rot1-old' })
      .catch((e: unknown) => e);
    expect(String(error)).toContain('injected');
    expect(await store.get('rot1-old')).toMatchObject({ id: 'rot1-old', data: { n: 1 } });
    // The failed create's id is tombstoned in the background (it could have run after all).
    await expect.poll(() => client.get(plain.sessionKey('rot1-new')), { timeout: 5000 }).toBe('revoked');
    expect(await store.get('rot1-new')).toBeUndefined();
    await store.dispose();
  });

  it('a failed removal of the old session: the sign-in succeeds and the old one is removed in the background (logged)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const plain = redisStore({ client, prefix });
    const { lines, logger } = captureLog();
    const store = redisStore({
      client: withFault(client, 'remove', plain.sessionKey('rot2-old'), { fail: true }),
      prefix,
      logger,
    });
    await store.create(row('rot2-old', undefined), { deadline: now + 1000 });
    expect(await store.create(row('rot2-new', 'rot-user'), { deadline: now + 1000, replacing: 'rot2-old' })).toBe(true);
    expect(await store.get('rot2-new')).toMatchObject({ userId: 'rot-user' });
    await expect.poll(() => client.get(plain.sessionKey('rot2-old')), { timeout: 5000 }).toBe('revoked');
    expect(lines.join('\n')).toContain('the session regenerate() replaced');
    await store.dispose();
  });

  it('the old session revoked between the two steps: the new one is removed too, and the sign-in is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const plain = redisStore({ client, prefix });
    const revokeOld = { before: () => plain.delete('rot3-old') };
    const store = redisStore({ client: withFault(client, 'remove', plain.sessionKey('rot3-old'), revokeOld), prefix });
    await store.create(row('rot3-old', 'rot-user'), { deadline: now + 1000 });
    expect(await store.create(row('rot3-new', 'rot-user'), { deadline: now + 1000, replacing: 'rot3-old' })).toBe(
      false,
    );
    expect(await client.get(plain.sessionKey('rot3-new'))).toBe('revoked');
    expect(await store.get('rot3-old')).toBeUndefined();
  });

  it('a create sent twice keeps what the first one wrote, and what was patched since', async () => {
    const store = redisStore({ client, prefix });
    const now = Math.floor(Date.now() / 1000);
    expect(await store.create(row('twice', undefined), { deadline: now + 1000 })).toBe(true);
    expect(await store.patch('twice', patchOf({ setData: { n: 2 } }))).toBe(true);
    expect(await store.create(row('twice', undefined), { deadline: now + 1000 })).toBe(true);
    expect((await store.get('twice'))?.data).toEqual({ n: 2 });
  });

  it('index entries leave only when their session can never be live again', async () => {
    const store = redisStore({ client, prefix });
    const user = `keep-${Math.random().toString(36).slice(2)}`;
    const now = Math.floor(Date.now() / 1000);
    const index = () => client.zrange(store.userKey(user), 0, -1);
    await store.create(row('live', user), { deadline: now + 1000 });
    await store.create(row('deleted', user), { deadline: now + 1000 });
    await store.create(row('moved', user), { deadline: now + 1000 });
    await store.patch('moved', patchOf({ userId: 'someone-else', previousUserId: user, deadline: now + 1000 }));
    await store.delete('deleted');
    // A sign-in whose index entry is written and whose session is not (yet): what a listing or
    // a revocation sees between the two steps.
    await client.zadd(store.userKey(user), now + 1000, 'pending');
    // An entry past its deadline.
    await client.zadd(store.userKey(user), now - 1, 'past');
    expect((await store.listByUser(user, now)).map((info) => info.id)).toEqual(['live']);
    expect((await index()).sort()).toEqual(['live', 'moved', 'pending']); // tombstone and past deadline pruned
    expect(await store.deleteByUser(user)).toEqual(['live']);
    expect((await index()).sort()).toEqual(['moved', 'pending']);
    // The pending sign-in completes after the revocation: still reachable from the index.
    expect(await store.create(row('pending', user), { deadline: now + 1000 })).toBe(true);
    expect((await store.listByUser(user, now)).map((info) => info.id)).toEqual(['pending']);
    expect(await store.deleteByUser(user)).toEqual(['pending']);
    expect((await store.get('moved'))?.userId).toBe('someone-else');
  });
});

describe('redisStore deadline, dispose and waitForReplicas (own redis-servers)', () => {
  let server: OwnRedis;
  let client: Redis;
  let admin: Redis;
  beforeAll(async () => {
    server = await startOwnRedis();
    client = new Redis({ host: '127.0.0.1', port: server.port, ...recommended });
    admin = new Redis({ host: '127.0.0.1', port: server.port });
    await Promise.all([ready(client), ready(admin)]);
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    admin?.disconnect();
    await server?.destroy();
  });

  it('an operation that outlives operationTimeoutMs fails (503) at its deadline; the client serves again afterwards', async () => {
    const manager = createSessionManager({
      secrets: testSecrets[0],
      store: redisStore({ client, operationTimeoutMs: 300 }),
    });
    const { session } = await manager.load(null);
    session.set('userId', 'paused');
    const jar = new CookieJar().apply(await manager.commit(session));
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL'); // the server holds every command for 1 s
    const started = Date.now();
    const error = await manager.load(jar.header()).catch((caught: unknown) => caught);
    const elapsedMs = Date.now() - started;
    expect(isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
    expect(String((error as Error).cause)).toMatch(/get did not finish within 300 ms \(operationTimeoutMs\)/);
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(elapsedMs).toBeLessThan(1000); // not the pause's 1 s
    await admin.call('CLIENT', 'UNPAUSE');
    expect((await manager.load(jar.header())).status).toBe('valid');
  });

  it('a create that misses its deadline but runs on the server later leaves no live session (its id is tombstoned)', async () => {
    const plain = redisStore({ client, prefix: 'late-create:' });
    const key = plain.sessionKey('late-new');
    // The server is paused just before the create goes out: the command waits there, past the deadline.
    const pausing = withFault(client, 'create', key, { before: () => admin.call('CLIENT', 'PAUSE', '1000', 'ALL') });
    const { lines, logger } = captureLog();
    const store = redisStore({ client: pausing, prefix: 'late-create:', operationTimeoutMs: 300, logger });
    const now = Math.floor(Date.now() / 1000);
    const error = await store
      .create(row('late-new', 'late-user', now), { deadline: now + 1000 })
      .catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/create did not finish within 300 ms/);
    expect(lines.join('\n')).toContain('burying a new session whose create did not answer');
    // After the pause the create runs; the tombstone written after it keeps the id dead.
    await expect.poll(() => client.get(key), { timeout: 10_000, interval: 100 }).toBe('revoked');
    expect(await plain.get('late-new')).toBeUndefined();
    expect(await plain.listByUser('late-user', now)).toEqual([]);
    await store.dispose();
  });

  it('dispose() waits for running operations, then refuses new ones; the client stays open', async () => {
    const store = redisStore({ client, operationTimeoutMs: 300 });
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const running = store.get('anything').then(
      () => 'resolved',
      () => 'rejected',
    );
    let disposed = false;
    const disposal = store.dispose().then(() => {
      disposed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(disposed).toBe(false); // the get is still running
    expect(await running).toBe('rejected'); // at its deadline
    await disposal;
    expect(disposed).toBe(true);
    await expect(store.get('anything')).rejects.toThrow(/get after dispose\(\): the store is closed/);
    await admin.call('CLIENT', 'UNPAUSE');
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });

  it('waitForReplicas: a revocation returns once a replica has it; without the replica it fails (503), retrying is safe, sign-ins work', {
    timeout: 60_000,
  }, async () => {
    await admin.config('SET', 'repl-diskless-sync-delay', '0'); // sync the new replica at once, not after 5 s
    const replica = await startOwnRedis(['--replicaof', '127.0.0.1', String(server.port)]);
    const replicaClient = new Redis({ host: '127.0.0.1', port: replica.port });
    const revocations = client.duplicate();
    replicaClient.on('error', () => {}); // the replica is shut down on purpose
    try {
      await Promise.all([ready(replicaClient), ready(revocations)]);
      const synced = async () => (await replicaClient.info('replication')).includes('master_link_status:up');
      for (let attempt = 0; attempt < 100 && !(await synced()); attempt++) await new Promise((r) => setTimeout(r, 100));
      // Room for a replica on a loaded machine (300 ms was seen to be too short under the full suite).
      const store = redisStore({
        client,
        operationTimeoutMs: 5000,
        waitForReplicas: { replicas: 1, timeoutMs: 2000, client: revocations },
      });
      const manager = createSessionManager({ secrets: testSecrets[0], store });
      const signIn = async () => {
        const { session } = await manager.load(null);
        session.set('userId', 'replicated');
        return { id: session.id, jar: new CookieJar().apply(await manager.commit(session)) };
      };
      const first = await signIn();
      expect(await manager.revokeSession(first.id)).toBe(true);
      // WAIT returned: the replica holds the tombstone already, with no polling.
      expect(await replicaClient.get(store.sessionKey(first.id))).toBe('revoked');
      const others = [await signIn(), await signIn()];
      expect(await manager.revokeUserSessions('replicated')).toBe(2);
      for (const { id } of others) expect(await replicaClient.get(store.sessionKey(id))).toBe('revoked');

      // No replica: the revocation is applied on the master but not confirmed: 503, and retrying is safe.
      const last = await signIn();
      const bystander = await signIn();
      await replica.shutdown('nosave');
      const settled: string[] = [];
      const revoking = manager.revokeSession(last.id).then(
        () => settled.push('revocation'),
        (caught: unknown) => {
          settled.push('revocation');
          return caught;
        },
      );
      // WAIT holds only its own connection: a request on the shared client is not queued behind it.
      const read = manager.load(bystander.jar.header()).then((loaded) => {
        settled.push('read');
        return loaded.status;
      });
      const error = await revoking;
      expect(await read).toBe('valid');
      expect(settled).toEqual(['read', 'revocation']);
      expect(isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
      expect(String((error as Error).cause)).toMatch(/reached 0 of 1 replica\(s\) within 2000 ms \(waitForReplicas\)/);
      expect((await manager.load(last.jar.header())).status).toBe('rejected');
      expect(await manager.revokeSession(last.id)).toBe(false); // already revoked: nothing to wait for
      // Revoke-all: the session is signed out (listed as revoked), the call is not complete.
      const partial = await signIn();
      const partly = (await manager
        .revokeUserSessions('replicated')
        .catch((caught: unknown) => caught)) as SessionKitError;
      expect(partly.revocation?.complete).toBe(false);
      expect([...(partly.revocation?.revokedSessionIds ?? [])].sort()).toEqual([partial.id, bystander.id].sort());
      // A sign-in replaces an anonymous session (regenerate): that deletion waits for nothing,
      // so signing in still works without the replica.
      const { session: visitor } = await manager.load(null);
      visitor.set('visited', true);
      const visitorJar = new CookieJar().apply(await manager.commit(visitor));
      const { session: signingIn } = await manager.load(visitorJar.header());
      signingIn.set('userId', 'after-replica-loss');
      signingIn.regenerate();
      visitorJar.apply(await manager.commit(signingIn));
      expect((await manager.load(visitorJar.header())).session.get('userId')).toBe('after-replica-loss');
      expect((await manager.load(partial.jar.header())).status).toBe('rejected');
    } finally {
      replicaClient.disconnect();
      revocations.disconnect();
      await replica.destroy();
    }
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
