/**
 * sessionkit on Cloudflare Workers, served by workerd (`wrangler dev`) and driven over HTTP:
 * - the astro-cloudflare fixture, built with @astrojs/cloudflare, in cookie mode (sealed cookies,
 *   on sessionkit's default engine, which is WebCrypto on Workers) and with server-side sessions
 *   in Workers KV (unstorage's cloudflare-kv-binding driver), from one build;
 * - the Deno/Bun test app (app.ts) as a Worker, with sealed cookies on WebCrypto and on the
 *   default engine: the core, guard and CSRF through the public API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, buildFixture, type FixtureServer } from '../support/astro.ts';
import { testSecrets } from '../support/fixtures.ts';
import { configurations, describeAppOn, postForm, postJsonWith, repoRoot } from './app-suite.ts';
import { serveOnWorkerd, serveWorker } from './wrangler.ts';

const fixture = 'astro-cloudflare';
const sessionCookie = '__Host-session';

/** Signs in through the login form; returns the sign-in response. */
async function signIn(browser: Browser, email: string): Promise<Response> {
  const token = await browser.csrfToken('/login');
  return postForm(browser, '/api/login', { csrf_token: token, email });
}

const servers = new Map<'cookie' | 'kv', FixtureServer>();
/** Workers have no node:sqlite: the store configuration is the configuration error tested below. */
const appConfigurations = configurations.filter((configuration) => !configuration.store);
/** The test app's Workers, started first so that they boot while Astro builds the fixture. */
const appServers = new Map<string, Promise<FixtureServer>>();

beforeAll(async () => {
  for (const configuration of appConfigurations) {
    const vars = { ...configuration.env, SESSIONKIT_SECRET: testSecrets[1] };
    const starting = serveWorker(`${repoRoot}test/runtimes/wrangler.json`, vars);
    starting.catch(() => undefined); // its suite awaits it and reports the failure
    appServers.set(configuration.name, starting);
  }
  buildFixture(fixture);
  const secret = testSecrets[0];
  const [cookie, kv] = await Promise.all([
    serveOnWorkerd(fixture, { SESSIONKIT_SECRET: secret }),
    serveOnWorkerd(fixture, { SESSIONKIT_SECRET: secret, SESSIONKIT_STORE: 'kv' }),
  ]);
  servers.set('cookie', cookie);
  servers.set('kv', kv);
}, 180_000);

afterAll(async () => {
  const started = await Promise.allSettled(appServers.values());
  const app = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  await Promise.all([...servers.values(), ...app].map((server) => server.stop()));
});

function server(mode: 'cookie' | 'kv'): FixtureServer {
  const found = servers.get(mode);
  if (found === undefined) throw new Error(`the ${mode} server did not start`);
  return found;
}

describe.each(['cookie', 'kv'] as const)('Astro on workerd, %s sessions', (mode) => {
  it('runs on workerd (the dashboard reports the Workers user agent)', async () => {
    const browser = new Browser(server(mode).url);
    await signIn(browser, 'user@example.com');
    const html = await (await browser.fetch('/dashboard')).text();
    expect(html).toContain('<p id="runtime">Cloudflare-Workers</p>');
  });

  it('sends signed-out visitors of a protected page to the login page (303), APIs get 401', async () => {
    const browser = new Browser(server(mode).url);
    const page = await browser.fetch('/dashboard');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?returnTo=%2Fdashboard');
    const token = await browser.csrfToken('/login');
    const api = await browser.postJson('/api/notes', { text: 'x' }, token);
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
  });

  it('signs in with a rotated session id, shows the flash once, refuses the admin page (403)', async () => {
    const browser = new Browser(server(mode).url);
    await browser.csrfToken('/login');
    // The sign-in form costs no session: its token is bound to the anonymous CSRF cookie.
    expect(browser.cookie(sessionCookie)).toBeUndefined();
    expect(browser.cookie(`${sessionCookie}-csrf`)).toBeDefined();
    const login = await signIn(browser, 'user@example.com');
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/dashboard');
    const signedIn = browser.cookie(sessionCookie);
    expect(signedIn).toBeDefined();
    expect(browser.cookie(`${sessionCookie}-csrf`)).toBeUndefined();
    expect(decodeURIComponent(signedIn!)).not.toContain('user@example.com');

    const first = await browser.fetch('/dashboard');
    expect(first.status).toBe(200);
    const firstHtml = await first.text();
    expect(firstHtml).toContain('Welcome, user@example.com');
    expect(firstHtml).toContain('<p id="notice">Signed in as user@example.com</p>');
    const second = await (await browser.fetch('/dashboard')).text();
    expect(second).toContain('Welcome, user@example.com');
    expect(second).not.toContain('id="notice"');

    const admin = await browser.fetch('/admin');
    expect(admin.status).toBe(403);
    expect(await admin.text()).not.toContain('Admin home');
  });

  it('refuses a write without the CSRF token or from another site, accepts it with the token', async () => {
    const browser = new Browser(server(mode).url);
    await signIn(browser, 'user@example.com');
    const token = await browser.csrfToken('/dashboard');
    const noToken = await postJsonWith(browser, '/api/notes', { text: 'no token' });
    expect(noToken.status).toBe(403);
    const crossSite = await postJsonWith(
      browser,
      '/api/notes',
      { text: 'cross-site' },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'x-csrf-token': token },
    );
    expect(crossSite.status).toBe(403);

    const accepted = await browser.postJson('/api/notes', { text: 'first' }, token);
    expect(accepted.status).toBe(201);
    expect(await accepted.json()).toEqual({ userId: 'u_user', notes: ['first'] });
    const again = await browser.postJson('/api/notes', { text: 'second' }, token);
    expect(await again.json()).toEqual({ userId: 'u_user', notes: ['first', 'second'] });
  });

  it('signs out (CSRF-protected form), shows the sign-out flash, and the dashboard is closed again', async () => {
    const browser = new Browser(server(mode).url);
    await signIn(browser, 'user@example.com');
    const token = await browser.csrfToken('/dashboard');
    const refused = await postForm(browser, '/api/logout', { csrf_token: 'v1.not-the-token' });
    expect(refused.status).toBe(403);
    const logout = await postForm(browser, '/api/logout', { csrf_token: token });
    expect(logout.status).toBe(303);
    expect(logout.headers.get('location')).toBe('/login');
    expect(await (await browser.fetch('/login')).text()).toContain('<p id="notice">Signed out</p>');
    expect((await browser.fetch('/dashboard')).status).toBe(303);
  });
});

describe('Workers KV store', () => {
  it('keeps only an opaque <id>.<secret> token in the cookie; the sealed mode keeps the encrypted session', async () => {
    const browser = new Browser(server('kv').url);
    await signIn(browser, 'user@example.com');
    expect(browser.cookie(sessionCookie)).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    const sealed = new Browser(server('cookie').url);
    await signIn(sealed, 'user@example.com');
    expect(sealed.cookie(sessionCookie)).toMatch(/^v1\.[A-Za-z0-9_-]{100,}$/);
  });

  it('revokes every session of a user: a copied cookie is refused on its next request', async () => {
    const browser = new Browser(server('kv').url);
    await signIn(browser, 'revoke@example.com');
    const copied = `${sessionCookie}=${browser.cookie(sessionCookie)}`;
    const visit = () => fetch(`${server('kv').url}/dashboard`, { headers: { cookie: copied }, redirect: 'manual' });
    expect((await visit()).status).toBe(200);

    const token = await browser.csrfToken('/dashboard');
    const revoke = await browser.fetch('/api/sign-out-everywhere', {
      method: 'POST',
      headers: { origin: browser.base, 'x-csrf-token': token },
    });
    expect(revoke.status).toBe(200);
    expect(await revoke.json()).toEqual({ revoked: 1 });
    // workerd's local KV is one strongly consistent store: the very next request sees the
    // revocation. Production KV caches reads per location for up to 60 s (docs/stores.md).
    expect((await visit()).status).toBe(303);
    expect((await browser.fetch('/dashboard')).status).toBe(303);
  });
});

describe('crypto engine on Workers', () => {
  it('"auto" picks WebCrypto although workerd offers node:crypto (without nodejs_compat), which is slower there', async () => {
    const app = await appServers.get(appConfigurations[0]!.name)!;
    const response = await fetch(`${app.url}/_engine`);
    expect(await response.json()).toEqual({ auto: 'webcrypto', nodeCryptoOffered: true });
  });
});

describe('what Workers cannot do', () => {
  it('sqliteStore() fails with a configuration error naming node:sqlite and the Workers alternatives', async () => {
    // workerd's node:sqlite is a stub whose DatabaseSync throws "Illegal constructor".
    const response = await fetch(`${server('cookie').url}/api/sqlite-store`);
    const body = (await response.json()) as { code: string; message: string; hint: string };
    expect(body.code).toBe('ERR_CONFIG_INVALID');
    expect(body.message).toContain('sqliteStore() needs node:sqlite');
    expect(body.message).toContain('Cloudflare Workers do not');
    expect(body.hint).toContain('unstorageStore()');
    expect(body.hint).toContain('cloudflare-kv-binding');
  });
});

describeAppOn(
  'workerd (test app)',
  /workerd \(Cloudflare-Workers\)/,
  (configuration) => {
    const starting = appServers.get(configuration.name);
    if (starting === undefined) throw new Error(`no Worker was started for ${configuration.name}`);
    return starting;
  },
  appConfigurations,
);
