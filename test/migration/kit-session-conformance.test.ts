/**
 * Conformance with @revas-hq/kit-session 0.0.16's README: every code example, option and described
 * behaviour, run the way docs/migration/kit-session.md says to migrate it (imports changed to
 * `sessionkit/compat/kit-session`). Ids (`ks-NN`) are the rows of the guide's conformance table.
 * The README's own setup and endpoint are the guide's snippets (test/migration/snippets/kit-session),
 * driven request by request; encryption at rest runs on the real Redis and PostgreSQL here.
 */
import { createHash } from 'node:crypto';
import { parseSetCookie } from 'cookie';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createSessionManager as createCoreManager, createKeyRing, isSessionKitError } from 'sessionkit';
import {
  createCookieSessionStore,
  createEncryptSessionStoreMiddleware,
  createSessionManager,
  createSessionRequestFunction,
  createSessionResponseFunction,
  importRawKey,
} from 'sessionkit/compat/kit-session';
import { encryptStore } from 'sessionkit/stores/encrypt';
import { postgresStore } from 'sessionkit/stores/postgres';
import { redisStore } from 'sessionkit/stores/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { ensurePostgres, ensureRedis } from '../support/services.ts';

// 32 bytes that look random (the entropy check refuses the bytes of a base64 string).
const base64Key = createHash('sha256').update(testSecrets[2]).digest('base64');
type ServerModule = typeof import('./snippets/kit-session/src/server.ts');
type EndpointModule = typeof import('./snippets/kit-session/src/endpoint.ts');
type SessionModule = typeof import('./snippets/kit-session/src/session.ts');
let server: ServerModule;
let endpoint: EndpointModule;
let setup: SessionModule;

beforeAll(async () => {
  process.env.SESSION_SECRET_KEY_BASE64 = base64Key;
  setup = await import('./snippets/kit-session/src/session.ts');
  endpoint = await import('./snippets/kit-session/src/endpoint.ts');
  server = await import('./snippets/kit-session/src/server.ts');
});

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(isSessionKitError(error)).toBe(true);
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('accepted');
}

async function refusalOf(run: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run();
  } catch (error) {
    expect(isSessionKitError(error)).toBe(true);
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('accepted');
}

/** One request through the README's hooks around the guide's endpoint. */
async function send(jar: CookieJar, path: string) {
  const response = await server.handle(new Request(`https://app.test${path}`, { headers: { cookie: jar.header() } }));
  jar.apply(response.headers.getSetCookie());
  return { status: response.status, body: await response.json(), setCookies: response.headers.getSetCookie() };
}

describe('kit-session README on sessionkit/compat/kit-session', () => {
  it('ks-01 createCookieSessionStore<T>() (typed or not): always encrypted; refused without a key', () => {
    const typed = createCookieSessionStore<{ userId?: string; theme?: string }>();
    const untyped = createCookieSessionStore();
    expect(typed).toMatchObject({ kind: 'cookie', encrypted: false });
    expect(refusal(() => createSessionManager({ name: 'session', storage: untyped })).message).toMatch(
      /no key\. sessionkit always encrypts sessions/,
    );
  });

  it('ks-02 importRawKey(base64Key): a 32-byte key; 16- and 24-byte (AES-128/192) keys refused', async () => {
    expect(await importRawKey(base64Key)).toMatchObject({ kind: 'sessionkit-raw-key', byteLength: 32 });
    for (const bytes of [16, 24]) {
      const short = createHash('sha256').update(testSecrets[0]).digest().subarray(0, bytes).toString('base64');
      expect((await refusalOf(() => importRawKey(short))).code).toBe('ERR_SECRET_WEAK');
    }
    expect((await refusalOf(() => importRawKey('not base64!'))).code).toBe('ERR_CONFIG_INVALID');
  });

  it('ks-03 createEncryptSessionStoreMiddleware(key, { encryptValues: true }) wraps the cookie store', async () => {
    const middleware = createEncryptSessionStoreMiddleware(await importRawKey(base64Key), { encryptValues: true });
    expect(middleware(createCookieSessionStore())).toMatchObject({ kind: 'cookie', encrypted: true });
  });

  it('ks-04 createSessionManager({ name, cookie, storage }) with the README’s SessionCookieOptions', async () => {
    const jar = new CookieJar();
    const { setCookies } = await send(jar, '/');
    const cookie = parseSetCookie(setCookies[0]!);
    expect(cookie).toMatchObject({ name: '__Host-Session', path: '/', httpOnly: true, secure: true, sameSite: 'lax' });
    // maxAge (1 week) is the absolute lifetime; the cookie follows the 24 h idle timeout inside it.
    expect(cookie.maxAge).toBe(24 * 60 * 60);
    expect(cookie.value).not.toContain('Please log in');
  });

  it('ks-05 createSessionRequestFunction / createSessionResponseFunction: load before, save after the handler', async () => {
    const context: Record<string, unknown> = {};
    const returned = await setup.loadSession(context, new Request('https://app.test/'));
    expect(returned).toBe(context);
    setup.sessionManager.setValue(context, 'theme', 'dark');
    const response = new Response('ok');
    const lines = await setup.saveSession(context, response);
    expect(lines).toHaveLength(1);
    expect(response.headers.getSetCookie()).toEqual(lines);
    expect(typeof createSessionRequestFunction).toBe('function');
    expect(typeof createSessionResponseFunction).toBe('function');
  });

  it('ks-06 kit-http-react-router beforeFunctions / afterFunctions: the same hooks, called around any handler', async () => {
    // src/server.ts calls loadSession before and saveSession after the endpoint, as the arrays did.
    const jar = new CookieJar();
    expect((await send(jar, '/login')).status).toBe(200);
    expect((await send(jar, '/')).body).toEqual({ counter: 1 });
  });

  it('ks-07..09 the endpoint: getValue<string>, getValue<number> ?? 0, setValue of a flash object, counter and lastVisit', async () => {
    const jar = new CookieJar();
    const signedOut = await send(jar, '/');
    expect(signedOut).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
    const context: Record<string, unknown> = {};
    await setup.loadSession(context, new Request('https://app.test/', { headers: { cookie: jar.header() } }));
    expect(setup.sessionManager.getValue(context, 'flash')).toEqual({ type: 'error', message: 'Please log in' });
    await send(jar, '/login');
    expect((await send(jar, '/')).body).toEqual({ counter: 1 });
    expect((await send(jar, '/')).body).toEqual({ counter: 2 });
    const after: Record<string, unknown> = {};
    await setup.loadSession(after, new Request('https://app.test/', { headers: { cookie: jar.header() } }));
    expect(setup.sessionManager.getValue<number>(after, 'counter')).toBe(2);
    expect(new Date(setup.sessionManager.getValue<string>(after, 'lastVisit')!).getTime()).not.toBeNaN();
  });

  it('ks-10 destroyValues(context): the cookie is deleted when the response is saved', async () => {
    const jar = new CookieJar();
    await send(jar, '/login');
    const { setCookies } = await send(jar, '/logout');
    expect(parseSetCookie(setCookies[0]!).maxAge).toBe(0);
    expect((await send(jar, '/')).status).toBe(401);
  });

  it('ks-11 isModified(context) and ks-12 mutation in place (no withContextValue)', async () => {
    const context: Record<string, unknown> = {};
    await setup.loadSession(context, new Request('https://app.test/'));
    expect(setup.sessionManager.isModified(context)).toBe(false);
    const result = await endpoint.myEndpoint({ context, request: new Request('https://app.test/') });
    expect(result.context).toBe(context); // the same object, changed in place
    expect(setup.sessionManager.isModified(context)).toBe(true);
  });

  it('ks-13 Security Considerations: HttpOnly forced, __Host- rules, size limit, secrets from the environment', async () => {
    const storage = createEncryptSessionStoreMiddleware(await importRawKey(base64Key))(createCookieSessionStore());
    expect(refusal(() => createSessionManager({ name: 's', storage, cookie: { httpOnly: false } })).message).toMatch(
      /HttpOnly/,
    );
    expect(
      refusal(() =>
        createSessionManager({ name: 's', storage, cookie: { name: '__Host-Session', domain: 'example.com' } }),
      ).code,
    ).toBe('ERR_CONFIG_INVALID');
    // More than a cookie holds: an error at save time, not a cookie the browser silently drops.
    const manager = createSessionManager({ name: 's', storage });
    const context: Record<string, unknown> = {};
    await manager.extractSession(context, null);
    manager.setValue(context, 'blob', 'x'.repeat(10_000));
    expect((await refusalOf(() => manager.injectSession(context, new Headers()))).code).toBe('ERR_COOKIE_TOO_LARGE');
  });

  it('ks-14 a custom SessionStore (getSession / setSession / deleteSession) is refused, naming the stores to use', () => {
    const custom = { getSession: async () => undefined, setSession: async () => {}, deleteSession: async () => {} };
    expect(
      refusal(() => createSessionManager({ name: 's', storage: custom as never, secrets: testSecrets[0] })).message,
    ).toMatch(/Custom kit-session stores are not supported: use memoryStore\(\), sqliteStore\(\), redisStore\(\)/);
  });
});

describe('ks-15 encryptValues: true over Redis and PostgreSQL: values sealed, the user index a keyed hash', () => {
  const prefix = `sk-conformance-${process.pid}-${Math.random().toString(36).slice(2, 8)}:`;
  const table = `sk_conformance_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const userId = 'user-4242@example.com';
  let redis: Redis;
  let pool: pg.Pool;
  beforeAll(async () => {
    const { host, port } = await ensureRedis();
    redis = new Redis({ host, port, lazyConnect: true });
    await redis.connect();
    pool = new pg.Pool({ ...(await ensurePostgres()), max: 4 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  /** Signs `userId` in through the compat manager over `store`, encryptValues on; returns its cookie. */
  async function signInThrough(store: Parameters<typeof createSessionManager>[0]['storage']): Promise<string> {
    const storage = createEncryptSessionStoreMiddleware(await importRawKey(base64Key), { encryptValues: true })(store);
    const manager = createSessionManager({ name: 'session', storage });
    const context: Record<string, unknown> = {};
    await manager.extractSession(context, null);
    manager.regenerate(context);
    manager.setValue(context, 'userId', userId);
    manager.setValue(context, 'theme', 'solarized-secret');
    const jar = new CookieJar().apply(await manager.injectSession(context, new Headers()));
    const again: Record<string, unknown> = {};
    await manager.extractSession(again, jar.header());
    expect(manager.getValue(again, 'theme')).toBe('solarized-secret');
    return jar.header();
  }

  it('Redis: no key, field or value holds the user id or a value', async () => {
    await signInThrough(redisStore({ client: redis, prefix }));
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(1); // the session and the user index
    const dump = [keys.join(' ')];
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'hash') dump.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'zset') dump.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'set') dump.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'string') dump.push((await redis.get(key)) ?? '');
    }
    const raw = dump.join('\n');
    expect(raw).not.toContain(userId);
    expect(raw).not.toContain('user-4242');
    expect(raw).not.toContain('solarized-secret');
  });

  it('PostgreSQL: the user_id column holds a hash, the data no value', async () => {
    await signInThrough(postgresStore({ pool, table }));
    const rows = (await pool.query(`SELECT * FROM "${table}"`)).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0].user_id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(rows)).not.toContain('user-4242');
    expect(JSON.stringify(rows)).not.toContain('solarized-secret');
  });

  it('listing and revocation by user id still work on both (the store manager over encryptStore)', async () => {
    const keyRing = createKeyRing(base64Key);
    for (const store of [
      redisStore({ client: redis, prefix: `${prefix}list:` }),
      postgresStore({ pool, table: `${table}_list` }),
    ]) {
      const manager = createCoreManager({ secrets: keyRing, store: encryptStore(store, { keyRing }) });
      const { session } = await manager.load(null);
      session.set('userId', userId);
      const cookie = (await manager.commit(session)).map((line) => line.split(';')[0]).join('; ');
      expect((await manager.listSessions(userId)).map((info) => info.id)).toEqual([session.id]);
      expect(await manager.revokeUserSessions(userId)).toBe(1);
      expect(await manager.load(cookie)).toMatchObject({ status: 'rejected', reason: 'revoked' });
    }
    await pool.query(`DROP TABLE IF EXISTS "${table}_list"`);
  });
});
