/**
 * One suite for the test app (app.ts) on any runtime: sessions (round trip, flash, rotation on
 * sign-in), guard decisions (303, 401, 403) and CSRF (token issued, cross-site and missing token
 * refused), driven over HTTP. deno.test.ts and bun.test.ts run it against their servers in three
 * configurations: sealed cookies on WebCrypto, sealed cookies on the default engine, and
 * server-side sessions in node:sqlite.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type FixtureServer, freePort, startServerProcess } from '../support/astro.ts';
import { testSecrets } from '../support/fixtures.ts';

/** The repository root (the servers run there, so `sessionkit` resolves to this package). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A server configuration: the environment given to the server script. */
export interface AppConfiguration {
  readonly name: string;
  readonly env: Record<string, string>;
  /** True when sessions live in a store (the cookie holds only an opaque token). */
  readonly store: boolean;
}

export const configurations: readonly AppConfiguration[] = [
  { name: 'sealed cookies, WebCrypto', env: { SESSIONKIT_CRYPTO_ENGINE: 'webcrypto' }, store: false },
  { name: 'sealed cookies, default engine', env: {}, store: false },
  { name: 'node:sqlite store', env: { SESSIONKIT_STORE: 'sqlite' }, store: true },
];

/** The version a runtime binary prints, or a failure naming the binary. */
export function runtimeVersion(binary: string, args: string[], env: Record<string, string> = {}): string {
  const result = spawnSync(binary, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${binary} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout.trim();
}

/** Starts `binary args... script` with the configuration's environment on a free port. */
export async function startApp(
  binary: string,
  args: string[],
  env: Record<string, string>,
  configuration: AppConfiguration,
): Promise<FixtureServer> {
  const port = await freePort();
  const serverEnv = { ...env, ...configuration.env, PORT: String(port), SESSIONKIT_SECRET: testSecrets[1] };
  return startServerProcess(args, repoRoot, serverEnv, `http://127.0.0.1:${port}`, 30_000, binary);
}

const sessionCookie = '__Host-session';

/** A browser's form POST: urlencoded body, same-origin `Origin` (`Browser` adds `Sec-Fetch-Site`). */
export function postForm(
  browser: Browser,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return browser.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: browser.base, ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** A JSON POST from a same-origin page (`Origin` and token headers as given in `headers`). */
export function postJsonWith(
  browser: Browser,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return browser.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: browser.base, ...headers },
    body: JSON.stringify(body),
  });
}

async function signIn(browser: Browser, email: string): Promise<Response> {
  const token = await browser.csrfToken('/login');
  return postForm(browser, '/login', { csrf_token: token, email });
}

/** Registers the suite for one runtime; `start` serves the app in a configuration (all, or `only`). */
export function describeAppOn(
  runtime: string,
  expectedRuntime: RegExp,
  start: (configuration: AppConfiguration) => Promise<FixtureServer>,
  only: readonly AppConfiguration[] = configurations,
): void {
  describe.each(only)(`${runtime}: %s`, (configuration) => {
    let server: FixtureServer;
    beforeAll(async () => {
      server = await start(configuration);
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('serves the app on the runtime under test', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'user@example.com');
      const html = await (await browser.fetch('/dashboard')).text();
      expect(html).toMatch(new RegExp(`<p id="runtime">${expectedRuntime.source}</p>`));
    });

    it('guard: a signed-out page visit is sent to sign in (303), an API call gets 401', async () => {
      const browser = new Browser(server.url);
      const page = await browser.fetch('/dashboard?tab=2');
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe('/login?returnTo=%2Fdashboard%3Ftab%3D2');
      const api = await browser.fetch('/api/me');
      expect(api.status).toBe(401);
      expect(await api.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
    });

    it('CSRF: sign-in is refused without the token and from another site, accepted with the token', async () => {
      const browser = new Browser(server.url);
      const token = await browser.csrfToken('/login');
      expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
      const missing = await postForm(browser, '/login', { email: 'user@example.com' });
      expect(missing.status).toBe(403);
      expect(await missing.json()).toMatchObject({ error: { code: 'ERR_CSRF', reason: 'missing-token' } });
      const crossSite = await postForm(
        browser,
        '/login',
        { csrf_token: token, email: 'user@example.com' },
        { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      );
      expect(crossSite.status).toBe(403);
      expect(await crossSite.json()).toMatchObject({ error: { reason: 'fetch-site' } });
      // One character in the middle changed to a different one: a forgery that can never equal the token
      // (replacing the tail with a constant did, about once in a thousand runs, when the token ended that way).
      const forgedCharacter = token[10] === 'A' ? 'B' : 'A';
      const forgedToken = `${token.slice(0, 10)}${forgedCharacter}${token.slice(11)}`;
      expect(forgedToken).not.toBe(token);
      const forged = await postForm(browser, '/login', { csrf_token: forgedToken, email: 'x' });
      expect(forged.status).toBe(403);
      expect(await forged.json()).toMatchObject({ error: { reason: 'bad-token' } });
      const accepted = await postForm(browser, '/login', { csrf_token: token, email: 'user@example.com' });
      expect(accepted.status).toBe(303);
      expect(accepted.headers.get('location')).toBe('/dashboard');
    });

    it('sign-in rotates the session: new cookie, and a token of the old session no longer passes', async () => {
      const browser = new Browser(server.url);
      const oldToken = await browser.csrfToken('/login');
      const before = browser.cookie(sessionCookie);
      await postForm(browser, '/login', { csrf_token: oldToken, email: 'user@example.com' });
      const after = browser.cookie(sessionCookie);
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      if (configuration.store) expect(after!.split('.')[0]).not.toBe(before!.split('.')[0]);
      else expect(decodeURIComponent(after!)).not.toContain('u_user');
      const stale = await browser.postJson('/api/notes', { text: 'x' }, oldToken);
      expect(stale.status).toBe(403);
      expect(await stale.json()).toMatchObject({ error: { reason: 'bad-token' } });
    });

    it('session round trip: the flash shows once, data written by one request is read by the next', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'user@example.com');
      const first = await (await browser.fetch('/dashboard')).text();
      expect(first).toContain('<p id="notice">Signed in as user@example.com</p>');
      expect(first).toContain('Welcome, user@example.com');
      const second = await (await browser.fetch('/dashboard')).text();
      expect(second).toContain('Welcome, user@example.com');
      expect(second).not.toContain('id="notice"');
      const token = await browser.csrfToken('/dashboard');
      expect(await (await browser.postJson('/api/notes', { text: 'one' }, token)).json()).toEqual({ notes: ['one'] });
      expect(await (await browser.postJson('/api/notes', { text: 'two' }, token)).json()).toEqual({
        notes: ['one', 'two'],
      });
      expect(await (await browser.fetch('/api/me')).json()).toEqual({ userId: 'u_user', role: 'user' });
    });

    it('CSRF on a JSON API: missing token and cross-site refused, the session untouched', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'user@example.com');
      const token = await browser.csrfToken('/dashboard');
      const missing = await postJsonWith(browser, '/api/notes', { text: 'no token' });
      expect(missing.status).toBe(403);
      const crossSite = await postJsonWith(
        browser,
        '/api/notes',
        { text: 'cross-site' },
        { origin: 'https://evil.example', 'x-csrf-token': token },
      );
      expect(crossSite.status).toBe(403);
      expect(await crossSite.json()).toMatchObject({ error: { reason: 'origin' } });
      const accepted = await browser.postJson('/api/notes', { text: 'kept' }, token);
      expect(await accepted.json()).toEqual({ notes: ['kept'] });
    });

    it('guard: a user is refused the admin page (403), an admin reaches it', async () => {
      const user = new Browser(server.url);
      await signIn(user, 'user@example.com');
      const refused = await user.fetch('/admin');
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: 'ERR_FORBIDDEN' } });
      const admin = new Browser(server.url);
      await signIn(admin, 'admin@example.com');
      const allowed = await admin.fetch('/admin');
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain('Admin home');
    });

    it('signs out: the cookie is cleared and the dashboard is closed again', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'user@example.com');
      const stolen = browser.cookieHeader();
      const token = await browser.csrfToken('/dashboard');
      const logout = await postForm(browser, '/logout', { csrf_token: token });
      expect(logout.status).toBe(303);
      expect(browser.cookie(sessionCookie)).toBeUndefined();
      expect((await browser.fetch('/dashboard')).status).toBe(303);
      if (configuration.store) {
        // A copy of the signed-in cookie is refused too: the session was deleted from the store.
        const replay = await fetch(`${server.url}/dashboard`, { headers: { cookie: stolen }, redirect: 'manual' });
        expect(replay.status).toBe(303);
      }
    });
  });
}
