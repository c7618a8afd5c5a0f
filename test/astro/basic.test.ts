import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, buildFixture, type FixtureServer, serveBuiltFixture, serveDevFixture } from '../support/astro.ts';

const fixture = 'astro-basic';

/** Paths that must all stay protected by `/admin/**` (signed out: redirect to sign-in). */
const hostileAdminPaths = [
  '/admin',
  '/admin/',
  '/admin/5',
  '/%61dmin',
  '/%2561dmin',
  '/%252561dmin',
  '//admin',
  '///admin',
  '/./admin',
  '/x/../admin',
  '/%2e%2e/admin',
  '/blog/../admin',
  '/ADMIN',
  '/Admin/5',
  '/admin?x=1',
  '/admin/.',
];

async function signIn(browser: Browser, email: string): Promise<Response> {
  const token = await browser.csrfToken();
  return browser.postJson('/api/login', { email }, token);
}

function describeApp(mode: 'production' | 'dev', start: () => Promise<FixtureServer>) {
  describe(`astro-basic (${mode})`, () => {
    let server: FixtureServer;
    beforeAll(async () => {
      server = await start();
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('redirects signed-out page visits to the login page with a return-to', async () => {
      const browser = new Browser(server.url);
      for (const path of ['/dashboard', '/admin/5', '/settings', '/premium/gold', '/vip', '/needs-session']) {
        const response = await browser.fetch(path);
        expect(response.status, path).toBe(303);
        const location = new URL(response.headers.get('location')!, server.url);
        expect(location.pathname, path).toBe('/login');
        expect(location.searchParams.get('returnTo'), path).toMatch(/^\/[^/\\]/);
      }
    });

    it.each(hostileAdminPaths)('keeps %s protected', async (path) => {
      const response = await new Browser(server.url).fetch(path);
      expect([303, 400, 404]).toContain(response.status);
      if (response.status === 303) expect(response.headers.get('location')).toMatch(/^\/login\?returnTo=/);
      expect(await response.text()).not.toContain('Admin home');
    });

    it('answers API requests with JSON 401, never a redirect', async () => {
      const response = await new Browser(server.url).fetch('/api/admin');
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
    });

    it('HEAD requests are guarded like GET', async () => {
      const response = await new Browser(server.url).fetch('/admin', { method: 'HEAD' });
      expect(response.status).toBe(303);
    });

    it('a user signs in (the anonymous form cookie gives way to a session), reaches the dashboard, is refused admin (403)', async () => {
      const browser = new Browser(server.url);
      await browser.csrfToken();
      // The sign-in form costs no session: its token is bound to the anonymous CSRF cookie.
      expect(browser.cookie('__Host-session')).toBeUndefined();
      expect(browser.cookie('__Host-session-csrf')).toBeDefined();
      const login = await signIn(browser, 'user@example.com');
      expect(login.status).toBe(200);
      expect(browser.cookie('__Host-session')).toBeDefined();
      expect(browser.cookie('__Host-session-csrf')).toBeUndefined();
      const dashboard = await browser.fetch('/dashboard');
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain('Welcome, user@example.com');
      expect(dashboard.headers.get('cache-control')).toContain('no-store');
      expect(dashboard.headers.get('x-user-middleware-saw-session')).toBe('true');
      for (const path of ['/admin', '/admin/5', '/settings', '/premium/gold', '/vip']) {
        expect((await browser.fetch(path)).status, path).toBe(403);
      }
      const api = await browser.fetch('/api/admin');
      expect(api.status).toBe(403);
    });

    it('an admin reaches admin pages, the permission page and the admin API', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'admin@example.com');
      expect((await browser.fetch('/admin')).status).toBe(200);
      expect(await (await browser.fetch('/admin/5')).text()).toContain('Admin item 5');
      expect((await browser.fetch('/settings')).status).toBe(200);
      const home = await (await browser.fetch('/')).text();
      expect(home).toContain('Admin Panel');
      expect(home).toContain('Create Post');
      const api = await browser.fetch('/api/admin');
      expect(await api.json()).toEqual({ data: 'secret', userId: 'u_admin' });
    });

    it('rules with closures (src/sessionkit.ts) and self-contained allow functions (astro.config) both work', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'vip@example.com');
      expect((await browser.fetch('/vip')).status).toBe(200);
      expect((await browser.fetch('/premium/gold')).status).toBe(200);
    });

    it('a rewrite in user middleware cannot reach a protected page', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'user@example.com');
      const response = await browser.fetch('/sneaky-rewrite');
      expect(response.status).toBe(403);
      expect(await response.text()).not.toContain('Admin home');
    });

    it('rejects writes without a CSRF token, from another origin, or with a token of another session', async () => {
      const browser = new Browser(server.url);
      const token = await browser.csrfToken();
      const noToken = await browser.fetch('/api/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: server.url },
        body: JSON.stringify({ email: 'admin@example.com' }),
      });
      expect(noToken.status).toBe(403);
      const crossOrigin = await browser.fetch('/api/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example', 'x-csrf-token': token },
        body: JSON.stringify({ email: 'admin@example.com' }),
      });
      expect(crossOrigin.status).toBe(403);
      const other = new Browser(server.url);
      const otherToken = await other.csrfToken();
      expect((await browser.postJson('/api/login', { email: 'admin@example.com' }, otherToken)).status).toBe(403);
      expect((await browser.postJson('/api/login', { email: 'admin@example.com' }, token)).status).toBe(200);
    });

    it('form sign-in honours returnTo, shows a flash message once', async () => {
      const browser = new Browser(server.url);
      const redirect = await browser.fetch('/dashboard');
      const loginUrl = redirect.headers.get('location')!;
      const token = await browser.csrfToken(loginUrl);
      const returnTo = new URL(loginUrl, server.url).searchParams.get('returnTo');
      const posted = await browser.fetch(`/api/login-form?returnTo=${encodeURIComponent(returnTo!)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
        body: new URLSearchParams({ csrf_token: token, email: 'form@example.com' }),
      });
      expect(posted.status).toBe(303);
      expect(posted.headers.get('location')).toBe('/dashboard');
      expect((await browser.fetch('/dashboard')).status).toBe(200);
      expect(await (await browser.fetch('/login')).text()).toContain('Signed in');
      expect(await (await browser.fetch('/login')).text()).not.toContain('Signed in');
    });

    it('a page rendered in the same request as a sign-in carries a token of the new session', async () => {
      const browser = new Browser(server.url);
      const anonymousToken = await browser.csrfToken();
      const signedIn = await browser.fetch('/sign-in-here', {
        method: 'POST',
        headers: { 'x-csrf-token': anonymousToken, origin: server.url },
      });
      expect(signedIn.status).toBe(200);
      const token = /<meta name="csrf-token" content="([^"]+)"/.exec(await signedIn.text())?.[1];
      expect(token).toBeDefined();
      expect(token).not.toBe(anonymousToken);
      const response = await browser.postJson('/api/update-role', { newRole: 'user' }, token!);
      expect(response.status).toBe(200);
    });

    it('refuses open redirects in returnTo', async () => {
      const browser = new Browser(server.url);
      const token = await browser.csrfToken();
      for (const evil of [
        '//evil.example',
        '/\\evil.example',
        'https://evil.example/',
        '/%2F%2Fevil.example',
        'javascript:alert(1)',
      ]) {
        const posted = await browser.fetch(`/api/login-form?returnTo=${encodeURIComponent(evil)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
          body: new URLSearchParams({ csrf_token: token, email: 'x@example.com' }),
        });
        const location = posted.headers.get('location') ?? '';
        expect(new URL(location, server.url).origin, evil).toBe(server.url);
      }
    });

    it('sign-out deletes the cookie and protected pages redirect again', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'user@example.com');
      const token = await browser.csrfToken('/');
      const out = await browser.fetch('/api/logout', {
        method: 'POST',
        headers: { origin: server.url, 'x-csrf-token': token },
      });
      expect(out.status).toBe(303);
      expect(browser.cookie('__Host-session')).toBeUndefined();
      expect((await browser.fetch('/dashboard')).status).toBe(303);
    });

    it('a role change through updateSession rotates the session id', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'user@example.com');
      const before = browser.cookie('__Host-session');
      const token = await browser.csrfToken('/');
      expect((await browser.postJson('/api/update-role', { newRole: 'admin' }, token)).status).toBe(200);
      expect(browser.cookie('__Host-session')).not.toBe(before);
      expect((await browser.fetch('/admin')).status).toBe(200);
    });

    it('an immutable Response.redirect from a route still gets the session cookie, no 500', async () => {
      const browser = new Browser(server.url);
      const response = await browser.fetch('/redirect-out');
      expect(response.status).toBe(302);
      expect(response.headers.getSetCookie().some((line) => line.startsWith('__Host-session='))).toBe(true);
    });

    it(
      mode === 'dev'
        ? 'serves redacted session and guard data to the dev toolbar'
        : 'serves no inspection endpoint in production',
      async () => {
        const browser = new Browser(server.url);
        await signIn(browser, 'user@example.com');
        const response = await browser.fetch('/_sessionkit/inspect?path=/admin/5');
        if (mode === 'production') {
          expect(response.status).toBe(404);
          return;
        }
        const body = await response.json();
        expect(body.session.data).toMatchObject({
          userId: { value: 'u_user' },
          role: { value: 'user' },
          email: { hidden: 'string, 16 characters' },
        });
        expect(JSON.stringify(body)).not.toContain('user@example.com');
        expect(body.guard.decision).toBe('deny 403');
        expect(body.guard.sources[0].matched).toEqual(['/admin/**']);
        expect(body.guard.checks).toEqual([{ pattern: '/admin/**', outcome: 'fail' }]);
        const toolbar = await (await browser.fetch('/@id/astro:toolbar:internal')).text();
        expect(toolbar).toContain('"id":"sessionkit"');
      },
    );

    it(
      mode === 'dev'
        ? 'a refused CSRF check names its reason and fix on the page, in the server log and in the dev toolbar'
        : 'a refused CSRF check is one server log line (reason, method, path, fix); the page stays plain',
      async () => {
        const browser = new Browser(server.url);
        await browser.csrfToken();
        const logged = server.output().length;
        const refused = await browser.fetch('/api/login-form', {
          method: 'POST',
          headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
          body: new URLSearchParams({ email: 'form@example.com' }),
        });
        expect(refused.status).toBe(403);
        const page = await refused.text();
        expect(page).toContain('This form has expired');
        const line = /\[sessionkit\] CSRF check refused: .*\(reason=missing-token method=POST path=\/api\/login-form\)/;
        await expect.poll(() => server.output().slice(logged), { timeout: 5000 }).toMatch(line);
        const lines = server
          .output()
          .slice(logged)
          .split('\n')
          .filter((text) => text.includes('CSRF check refused'));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain('hidden field named "csrf_token" (value: Astro.locals.sessionkit.csrfToken)');
        if (mode === 'production') {
          expect(page).not.toContain('missing-token');
          return;
        }
        expect(page).toContain('missing-token');
        expect(page).toContain('Astro.locals.sessionkit.csrfToken');
        const inspected = await (await browser.fetch('/_sessionkit/inspect?path=/')).json();
        expect(inspected.csrf.lastRefusal).toMatchObject({
          reason: 'missing-token',
          method: 'POST',
          path: '/api/login-form',
          fix: expect.stringContaining('csrf_token'),
        });
      },
    );

    it('public pages work signed out and set no cookie', async () => {
      const response = await new Browser(server.url).fetch('/blog/hello');
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()).toEqual([]);
    });
  });
}

let buildOutput = '';
describeApp('production', async () => {
  buildOutput = buildFixture(fixture);
  return serveBuiltFixture(fixture);
});

describe('prerendered pages', () => {
  it('get no session work: the build logs no warning (no header or cookie access)', () => {
    expect(buildOutput).toContain('/about/index.html');
    expect(buildOutput).not.toMatch(/\[WARN\]/);
  });
});
describeApp('dev', () => serveDevFixture(fixture));
