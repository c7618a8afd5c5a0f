/**
 * `sessionkit/fetch` on Deno and Bun: the app of adapter-app.ts, served by `Deno.serve` and
 * `Bun.serve`, signs in, keeps a flash for one page, answers the route rules (303 for a page,
 * 401 JSON for the API, 403 for the wrong role) and refuses writes without a token or from another
 * site. The `sessionkit/server` helpers it calls find their request through the runtime's
 * `AsyncLocalStorage`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser as BrowserType, FixtureServer } from '../support/astro.ts';
import { Browser } from '../support/astro.ts';
import { postForm, repoRoot, startApp } from './app-suite.ts';

interface Runtime {
  name: string;
  binary: string;
  args: string[];
  env: Record<string, string>;
  shown: RegExp;
}

const runtimes: Runtime[] = [
  {
    name: 'Deno',
    binary: `${repoRoot}node_modules/.bin/deno`,
    args: [
      'run',
      '--no-remote',
      '--cached-only',
      '--allow-net=127.0.0.1',
      '--allow-env=PORT,SESSIONKIT_SECRET',
      'test/runtimes/adapter-deno-server.ts',
    ],
    env: { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', NO_COLOR: '1' },
    shown: /Deno \d+\.\d+\.\d+/,
  },
  {
    name: 'Bun',
    binary: `${repoRoot}node_modules/.bin/bun`,
    args: ['test/runtimes/adapter-bun-server.ts'],
    env: { DO_NOT_TRACK: '1', NO_COLOR: '1' },
    shown: /Bun \d+\.\d+\.\d+/,
  },
];

async function signIn(browser: BrowserType, email: string): Promise<Response> {
  const token = await browser.csrfToken('/login');
  return postForm(browser, '/login', { csrf_token: token, email });
}

describe.each(runtimes)('sessionkit/fetch on $name', (runtime) => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startApp(runtime.binary, runtime.args, runtime.env, { name: runtime.name, env: {}, store: false });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('signs in (303 to the dashboard), shows the flash once, on the runtime under test', async () => {
    const browser = new Browser(server.url);
    const signedIn = await signIn(browser, 'user@example.com');
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/dashboard');
    const first = await (await browser.fetch('/dashboard')).text();
    expect(first).toContain('<p id="notice">Signed in as user@example.com</p>');
    expect(first).toContain('Welcome, user@example.com');
    expect(first).toMatch(new RegExp(`<p id="runtime">${runtime.shown.source}</p>`));
    expect(await (await browser.fetch('/dashboard')).text()).not.toContain('id="notice"');
    expect(await (await browser.fetch('/api/me')).json()).toEqual({ userId: 'u_user', role: 'user' });
  });

  it('route rules: 303 to sign in for a page, 401 JSON for the API, 403 for the wrong role', async () => {
    const guest = new Browser(server.url);
    const page = await guest.fetch('/dashboard');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?returnTo=%2Fdashboard');
    const api = await guest.fetch('/api/me', { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
    const user = new Browser(server.url);
    await signIn(user, 'user@example.com');
    expect((await user.fetch('/admin')).status).toBe(403);
    const admin = new Browser(server.url);
    await signIn(admin, 'admin@example.com');
    expect((await admin.fetch('/admin')).status).toBe(200);
  });

  it('CSRF: a sign-in without the token or from another site is refused and signs nobody in', async () => {
    const browser = new Browser(server.url);
    const token = await browser.csrfToken('/login');
    expect((await postForm(browser, '/login', { email: 'user@example.com' })).status).toBe(403);
    const crossSite = await postForm(
      browser,
      '/login',
      { csrf_token: token, email: 'user@example.com' },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.status).toBe(403);
    expect((await browser.fetch('/dashboard')).status).toBe(303);
  });

  it('signs out: the dashboard is closed again', async () => {
    const browser = new Browser(server.url);
    await signIn(browser, 'user@example.com');
    const token = await browser.csrfToken('/dashboard');
    expect((await postForm(browser, '/logout', { csrf_token: token })).status).toBe(303);
    expect((await browser.fetch('/dashboard')).status).toBe(303);
  });
});
