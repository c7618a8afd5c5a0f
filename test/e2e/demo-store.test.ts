/**
 * The demo on each of its stores (SQLite, and Redis on a private redis-server), driven over HTTP:
 *
 * - anonymous traffic costs no storage: 10,000 cookie-less GETs spread over every page (a
 *   crawler) leave 0 session rows or keys, although the sign-in and sign-up pages carry
 *   CSRF-protected forms;
 * - a store that cannot write locks nobody in or out: with the SQLite file made read-only
 *   (immutable, as on a read-only file system) or the Redis server turned into a read-only
 *   replica, public pages and the sign-in page work, sign-out clears the cookie, and browser form
 *   posts that need a write get an HTML 503 (JSON only for API requests).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseSetCookie } from 'cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnRedis, redisCli, startOwnRedis } from '../support/services.ts';
import { type DemoServer, demoAccounts, startDemo } from './support/demo.ts';
import { csrfTokenOf, HttpClient, signInWithForm } from './support/http.ts';

const { user } = demoAccounts;
const sessionCookie = '__Host-session';
const anonymousCookie = '__Host-session-csrf';
/** Every page and route of the demo a crawler can GET. */
const demoPaths = [
  '/',
  '/login',
  '/signup',
  '/login?returnTo=%2Fdevices',
  '/dashboard',
  '/devices',
  '/reports',
  '/admin',
  '/api/me',
  '/api/admin/stats',
  '/logout',
];
const crawlRequests = 10_000;
const crawlConcurrency = 16;

/** One store under test: how to start the demo on it, count its sessions, and make it read-only. */
interface StoreUnderTest {
  start(): Promise<DemoServer>;
  /** Session rows (SQLite) or keys (Redis) the demo's store holds. */
  count(): number;
  /** The store refuses writes from now on; reads keep working. */
  makeReadOnly(): void;
  /** The store writes again. */
  makeWritable(): void;
  stop(): Promise<void>;
}

function sqliteStoreUnderTest(): StoreUnderTest {
  let server: DemoServer | undefined;
  const files = () => {
    const database = join((server as DemoServer).dataDir, 'demo.db');
    return [database, `${database}-wal`].filter((file) => existsSync(file));
  };
  return {
    async start() {
      server = await startDemo();
      return server;
    },
    count() {
      const database = new DatabaseSync(join((server as DemoServer).dataDir, 'demo.db'), { readOnly: true });
      try {
        return Number((database.prepare('SELECT count(*) AS n FROM sessionkit_sessions').get() as { n: number }).n);
      } finally {
        database.close();
      }
    },
    makeReadOnly() {
      // Immutable files (chattr +i) refuse every write, the open connection's included, as a
      // read-only file system does; SQLite answers the demo's writes with an I/O error.
      execFileSync('chattr', ['+i', ...files()]);
    },
    makeWritable() {
      execFileSync('chattr', ['-i', ...files()]);
    },
    async stop() {
      await server?.stop();
    },
  };
}

function redisStoreUnderTest(): StoreUnderTest {
  let redis: OwnRedis | undefined;
  let server: DemoServer | undefined;
  const prefix = `sessionkit-e2e-store-${randomBytes(6).toString('hex')}:`;
  const cli = (...args: string[]) => redisCli((redis as OwnRedis).port, ...args).trim();
  return {
    async start() {
      redis = await startOwnRedis();
      server = await startDemo({
        env: {
          SESSIONKIT_DEMO_STORE: 'redis',
          REDIS_URL: `redis://127.0.0.1:${redis.port}`,
          SESSIONKIT_DEMO_REDIS_PREFIX: prefix,
        },
      });
      return server;
    },
    count() {
      return cli('--scan', '--pattern', `${prefix}*`)
        .split('\n')
        .filter((line) => line !== '').length;
    },
    makeReadOnly() {
      // A replica of a master that never answers: it keeps serving its data, and refuses
      // writes with READONLY (replica-read-only is on by default).
      cli('REPLICAOF', '127.0.0.1', '1');
      expect(cli('SET', `${prefix}probe`, 'x')).toMatch(/^READONLY/);
    },
    makeWritable() {
      expect(cli('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    },
    async stop() {
      await server?.stop();
      await redis?.destroy();
    },
  };
}

/** GETs `paths` round-robin, `total` times, with no cookie, `concurrency` at a time; returns the Set-Cookie names seen. */
async function crawl(base: string, paths: readonly string[], total: number, concurrency: number): Promise<Set<string>> {
  const names = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const path = paths[next++ % paths.length] as string;
      const response = await fetch(`${base}${path}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      if (response.status >= 500) throw new Error(`GET ${path}: ${response.status}`);
      await response.arrayBuffer();
      for (const line of response.headers.getSetCookie()) names.add(parseSetCookie(line).name);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return names;
}

async function signIn(client: HttpClient, server: DemoServer): Promise<void> {
  expect((await signInWithForm(client, server.url, user)).status).toBe(303);
  // The flash message is read once, while the store can still write.
  await client.page(`${server.url}/dashboard`);
}

const stores: [string, () => StoreUnderTest][] = [
  ['SQLite', sqliteStoreUnderTest],
  ['Redis', redisStoreUnderTest],
];

describe.each(stores)('the demo on %s', (_name, make) => {
  const store = make();
  let server: DemoServer;

  beforeAll(async () => {
    server = await store.start();
  }, 60_000);

  afterAll(async () => {
    await store.stop();
  });

  it(`${crawlRequests.toLocaleString('en')} cookie-less GETs to every page write 0 sessions`, async () => {
    expect(store.count()).toBe(0);
    const names = await crawl(server.url, demoPaths, crawlRequests, crawlConcurrency);
    expect(store.count()).toBe(0);
    // The forms' token lives in the anonymous CSRF cookie; no page set a session cookie.
    expect([...names]).toEqual([anonymousCookie]);
    // The counter counts: one sign-in is one session.
    await signIn(new HttpClient(), server);
    expect(store.count()).toBeGreaterThan(0);
  }, 300_000);

  it('a read-only store: public pages and sign-in page work, sign-out clears the cookie, browser posts get HTML 503', async () => {
    const signedIn = new HttpClient();
    await signIn(signedIn, server);
    const signOutToken = csrfTokenOf(await signedIn.page(`${server.url}/dashboard`));
    store.makeReadOnly();
    try {
      const visitor = new HttpClient();
      expect((await visitor.fetch(`${server.url}/`)).status).toBe(200);
      const loginToken = csrfTokenOf(await visitor.page(`${server.url}/login`));
      expect(visitor.jar.names()).toEqual([anonymousCookie]);

      // Signing in needs a write: the browser gets the HTML 503 page, and nothing changed.
      const login = await visitor.fetch(`${server.url}/login`, {
        method: 'POST',
        headers: {
          accept: 'text/html,application/xhtml+xml',
          'content-type': 'application/x-www-form-urlencoded',
          origin: server.url,
        },
        body: new URLSearchParams({ csrf_token: loginToken, email: user.email, password: user.password }),
      });
      expect(login.status).toBe(503);
      expect(login.headers.get('content-type')).toContain('text/html');
      expect(login.headers.get('retry-after')).toBe('5');
      expect(await login.text()).toContain('Service unavailable');
      expect(visitor.jar.names()).toEqual([anonymousCookie]);

      // The signed-in browser still reads its pages; a form that writes gets HTML, a script JSON.
      expect((await signedIn.fetch(`${server.url}/dashboard`)).status).toBe(200);
      const counter = await signedIn.fetch(`${server.url}/dashboard`, {
        method: 'POST',
        headers: {
          accept: 'text/html,application/xhtml+xml',
          'content-type': 'application/x-www-form-urlencoded',
          origin: server.url,
        },
        body: new URLSearchParams({ csrf_token: signOutToken, action: 'increment' }),
      });
      expect(counter.status).toBe(503);
      expect(counter.headers.get('content-type')).toContain('text/html');
      const script = await signedIn.fetch(`${server.url}/dashboard`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': signOutToken, origin: server.url },
        body: '{"action":"increment"}',
      });
      expect(script.status).toBe(503);
      expect(await script.json()).toMatchObject({ error: { code: 'ERR_STORE_UNAVAILABLE' } });

      // Signing out ends the session on this browser although the store cannot delete it.
      const logged = server.output().length;
      const signOut = await signedIn.postForm(`${server.url}/logout`, { csrf_token: signOutToken });
      expect(signOut.status).toBe(303);
      expect(signOut.headers.get('location')).toBe('/login');
      const cleared = signOut.headers
        .getSetCookie()
        .map((line) => parseSetCookie(line))
        .find((cookie) => cookie.name === sessionCookie);
      expect(cleared?.maxAge).toBe(0);
      expect(signedIn.jar.get(sessionCookie)).toBeUndefined();
      const redirect = await signedIn.fetch(`${server.url}/dashboard`);
      expect(redirect.status).toBe(303);
      expect(redirect.headers.get('location')).toBe('/login?returnTo=%2Fdashboard');
      expect(server.output().slice(logged)).toMatch(/\[sessionkit\] sign-out: the session store failed/);
    } finally {
      store.makeWritable();
    }
    // Writable again: signing in works.
    await signIn(new HttpClient(), server);
  }, 60_000);
});
