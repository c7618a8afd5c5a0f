/**
 * Conformance with astro-session 0.3.0's README: every code example and described behaviour, run
 * the way docs/migration/astro-session.md says to migrate it, in a real Astro app: the guide's
 * snippet folder (test/migration/snippets/astro-session) built and served. Ids (`as-NN`) are the
 * rows of the guide's conformance table.
 */
import { fileURLToPath } from 'node:url';
import { createCookieSessionStorage, isSessionKitError } from 'sessionkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, buildApp, type FixtureServer, serveBuiltApp } from '../support/astro.ts';
import { testSecrets } from '../support/fixtures.ts';

const app = fileURLToPath(new URL('./snippets/astro-session', import.meta.url));

describe('astro-session 0.3.0 README, on sessionkit, in a built Astro app', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    buildApp(app);
    server = await serveBuiltApp(app, { SESSION_SECRET: testSecrets[2] });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** Posts the sign-in form as a browser does (same origin). */
  const postLogin = (browser: Browser, email: string, password: string) =>
    browser.fetch('/api/login', {
      method: 'POST',
      headers: { origin: server.url, 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ email, password }),
    });

  it('as-03 the counter page: getSession(Astro.request), set (value and updater), get, commitSession into Astro.response', async () => {
    const browser = new Browser(server.url);
    const counts: string[] = [];
    for (let visit = 0; visit < 3; visit++) {
      const html = await (await browser.fetch('/')).text();
      counts.push(/You visited this page: (\d+)/.exec(html)?.[1] ?? '?');
    }
    expect(counts).toEqual(['1', '2', '3']);
    const cookie = browser.cookie('__session-id');
    expect(cookie).toBeDefined();
    expect(cookie).not.toContain('count'); // sealed, not a readable JWT
    // Another browser starts from the defaults: nothing is shared between sessions.
    expect(await (await new Browser(server.url).fetch('/')).text()).toContain('You visited this page: 1');
  });

  it('as-05 the sign-in endpoint: a flash message and a redirect to /login on wrong credentials', async () => {
    const browser = new Browser(server.url);
    const response = await postLogin(browser, 'ada@example.com', 'wrong');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login');
    const page = await (await browser.fetch('/login')).text();
    expect(page).toContain('<p>Invalid email/password</p>');
  });

  it('as-06 the login page: the flash message shows once; a signed-in visit goes to the dashboard', async () => {
    const browser = new Browser(server.url);
    await postLogin(browser, 'ada@example.com', 'wrong');
    expect(await (await browser.fetch('/login')).text()).toContain('Invalid email/password');
    expect(await (await browser.fetch('/login')).text()).not.toContain('Invalid email/password');
    const signedIn = await postLogin(browser, 'ada@example.com', 'correct horse');
    expect(signedIn.headers.get('location')).toBe('/dashboard');
    const again = await browser.fetch('/login');
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toBe('/dashboard');
  });

  it('as-07 flash data is read once, then deleted (FAQ)', async () => {
    const browser = new Browser(server.url);
    await postLogin(browser, 'nobody@example.com', 'x');
    const first = await (await browser.fetch('/login')).text();
    const second = await (await browser.fetch('/login')).text();
    expect([first.includes('Invalid email/password'), second.includes('Invalid email/password')]).toEqual([
      true,
      false,
    ]);
  });

  it('as-10 sign-in issues a new session id (the guide adds session.regenerate())', async () => {
    const browser = new Browser(server.url);
    await browser.fetch('/');
    const before = browser.cookie('__session-id');
    await postLogin(browser, 'ada@example.com', 'correct horse');
    expect(browser.cookie('__session-id')).not.toBe(before);
  });
});

describe('astro-session README items decided without an app', () => {
  it('as-01 createCookieSessionStorage<SessionData>(defaults, { cookie: { name, path, secret } }), the README’s secret refused', () => {
    const storage = createCookieSessionStorage(
      { count: 0, user: null },
      { cookie: { name: '__session-id', path: '/', secret: testSecrets[0] } },
    );
    expect(Object.keys(storage).sort()).toEqual(
      [
        'commitSession',
        'commitSessionCookies',
        'destroySession',
        'destroySessionCookies',
        'getSession',
        'loadSession',
      ].sort(),
    );
    expect(() =>
      createCookieSessionStorage({ count: 0 }, { cookie: { name: '__session-id', path: '/', secret: 'not-secret' } }),
    ).toThrow(expect.toSatisfy((error: unknown) => isSessionKitError(error, 'ERR_SECRET_WEAK')));
    // "all of these are optional": the secret is not.
    expect(() => createCookieSessionStorage({ count: 0 }, { cookie: {} })).toThrow(/give the secret exactly once/);
  });

  it('as-04 destroySession (named in the README, not exported by astro-session) deletes the cookie', async () => {
    const { getSession, commitSession, destroySession } = createCookieSessionStorage(
      { count: 0 },
      { cookie: { name: '__session-id', secret: testSecrets[0] } },
    );
    const session = await getSession(null);
    session.set('count', 1);
    const value = (await commitSession(session)).split(';')[0]!;
    const loaded = await getSession(value);
    expect(loaded.get('count')).toBe(1);
    expect(await destroySession(loaded)).toMatch(/^__session-id=; .*Max-Age=0/i);
  });
});
