/**
 * docs/migration/iron-session.md: getIronSession-style code mapped to createCookieSessionStorage
 * (Web Request/Response) and createSessionManager (node:http), plus carrying old iron-session
 * cookies over.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSetCookie } from 'cookie';
import { sealData } from 'iron-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, testSecrets } from '../support/fixtures.ts';

const ironPassword = 'an-old-iron-session-password-of-at-least-32-characters';

type Routes = typeof import('./snippets/iron-session/src/routes.ts');
type Legacy = typeof import('./snippets/iron-session/src/legacy.ts');
type NodeServer = typeof import('./snippets/iron-session/src/node-server.ts');
type Storage = typeof import('./snippets/iron-session/src/session.ts');
let routes: Routes;
let legacy: Legacy;
let nodeServer: NodeServer;
let storage: Storage;

beforeAll(async () => {
  process.env.SESSION_SECRETS = `${testSecrets[0]},${testSecrets[1]}`;
  process.env.IRON_SESSION_PASSWORD = ironPassword;
  routes = await import('./snippets/iron-session/src/routes.ts');
  legacy = await import('./snippets/iron-session/src/legacy.ts');
  nodeServer = await import('./snippets/iron-session/src/node-server.ts');
  storage = await import('./snippets/iron-session/src/session.ts');
});

function request(jar: CookieJar, path = '/'): Request {
  return new Request(`https://app.test${path}`, { headers: { cookie: jar.header() } });
}

describe('Web Request/Response routes (createCookieSessionStorage)', () => {
  it('login sets an encrypted __Host- cookie (303), the user is read back, logout deletes it', async () => {
    const jar = new CookieJar();
    expect(await (await routes.getUser(request(jar))).json()).toEqual({ username: null, isLoggedIn: false });

    const login = await routes.login(request(jar));
    expect(login.status).toBe(303);
    const cookie = parseSetCookie(login.headers.get('set-cookie')!);
    expect(cookie).toMatchObject({ name: '__Host-myapp_session', httpOnly: true, secure: true, path: '/' });
    expect(cookie.maxAge).toBe(24 * 60 * 60);
    expect(cookie.value).not.toContain('Alison');
    jar.apply(login.headers.getSetCookie());
    expect(await (await routes.getUser(request(jar))).json()).toEqual({ username: 'Alison', isLoggedIn: true });

    const logout = await routes.logout(request(jar));
    expect(parseSetCookie(logout.headers.get('set-cookie')!).maxAge).toBe(0);
    jar.apply(logout.headers.getSetCookie());
    expect(jar.names()).toEqual([]);
  });

  it('rotation: cookies sealed with the older secret still open', async () => {
    const { createCookieSessionStorage } = await import('sessionkit');
    const old = createCookieSessionStorage<{ username?: string }>({
      cookie: { name: '__Host-myapp_session', secrets: [testSecrets[1]] },
    });
    const session = await old.getSession(null);
    session.set('username', 'Old');
    const jar = new CookieJar().apply([await old.commitSession(session)]);
    const loaded = await storage.sessionStorage.loadSession(request(jar));
    expect(loaded.status).toBe('valid');
    expect(loaded.session.get('username')).toBe('Old');
  });
});

describe('node:http handler (createSessionManager, as getIronSession(req, res) was)', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      nodeServer.handler(req, res).catch((error) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POST signs in with a Set-Cookie; GET reads it back and sets nothing', async () => {
    const posted = await fetch(origin, { method: 'POST' });
    expect(await posted.json()).toEqual({ username: 'Alison' });
    const setCookies = posted.headers.getSetCookie();
    expect(setCookies).toHaveLength(1);
    const jar = new CookieJar().apply(setCookies);
    const read = await fetch(origin, { headers: { cookie: jar.header() } });
    expect(await read.json()).toEqual({ username: 'Alison' });
    expect(read.headers.getSetCookie()).toEqual([]);
  });
});

describe('carrying old iron-session cookies over', () => {
  it('copies the old data into a new session once and deletes the old cookie', async () => {
    const seal = await sealData({ username: 'Alison', isLoggedIn: true }, { password: ironPassword });
    const jar = new CookieJar().apply([`myapp_session=${seal}; Path=/`]);
    const { session, setCookies } = await legacy.getSessionWithLegacy(request(jar));
    expect(session.get('username')).toBe('Alison');
    expect(session.get('isLoggedIn')).toBe(true);
    expect(parseSetCookie(setCookies[0]!)).toMatchObject({ name: 'myapp_session', maxAge: 0 });
    jar.apply([...setCookies, await storage.sessionStorage.commitSession(session)]);
    expect(jar.names()).toEqual(['__Host-myapp_session']);
    expect(await (await routes.getUser(request(jar))).json()).toEqual({ username: 'Alison', isLoggedIn: true });
  });

  it('an old cookie that does not open brings nothing over', async () => {
    const seal = await sealData({ username: 'Mallory' }, { password: 'another-password-that-is-32-characters-long' });
    const jar = new CookieJar().apply([`myapp_session=${seal}; Path=/`]);
    const { session, setCookies } = await legacy.getSessionWithLegacy(request(jar));
    expect(session.get('username')).toBeUndefined();
    expect(setCookies).toHaveLength(1);
  });
});
