/**
 * Conformance with astro-sessionkit 0.1.33's README (and the 0.1.14 README of the seeds): every
 * code example, option and described behaviour, each run the way docs/migration/astro-sessionkit.md
 * says to migrate it. Ids (`ask-NN`) are the rows of the guide's conformance table; a row marked
 * "differs" asserts sessionkit's behaviour, with the reason in the table.
 *
 * Two built apps: test/migration/apps/astro-sessionkit (sessionkit keeps the session) and
 * test/migration/apps/astro-sessionkit-bridge (the app keeps its own, in Astro's session).
 */
import { fileURLToPath } from 'node:url';
import { createSessionkit, isSessionKitError } from 'sessionkit';
import { createGuard } from 'sessionkit/guard';
import { hasRole, setSession, updateSession } from 'sessionkit/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Browser, buildApp, type FixtureServer, serveBuiltApp } from '../support/astro.ts';
import { testSecrets } from '../support/fixtures.ts';
import { csrfFetch } from './apps/astro-sessionkit/src/scripts/csrf-fetch.ts';

const appsRoot = fileURLToPath(new URL('./apps/', import.meta.url));
const password = 'correct horse';

/** The token the page put in `<meta name="csrf-token">`. */
function metaToken(html: string): string | undefined {
  return /<meta name="csrf-token" content="([^"]*)"/.exec(html)?.[1];
}

/**
 * Loads `path` in `browser` and runs `script` as that page's script would: `document` is the page
 * (its csrf-token meta tag) and `fetch` goes out with the browser's cookies and the headers a
 * browser adds to a same-origin request.
 */
async function onPage<T>(browser: Browser, path: string, script: () => Promise<T>): Promise<T> {
  const token = metaToken(await (await browser.fetch(path)).text());
  vi.stubGlobal('document', {
    querySelector: (selector: string) =>
      selector === 'meta[name="csrf-token"]' && token !== undefined ? { content: token } : null,
  });
  vi.stubGlobal('fetch', (input: RequestInfo | URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('origin', browser.base);
    headers.set('sec-fetch-site', 'same-origin');
    return browser.fetch(String(input), { ...init, headers });
  });
  try {
    return await script();
  } finally {
    vi.unstubAllGlobals();
  }
}

/** Signs in through the login page's script (csrfFetch to the README's /api/login). */
async function signIn(browser: Browser, email: string, endpoint = '/api/login', extra: object = {}): Promise<Response> {
  return onPage(browser, '/login', () =>
    csrfFetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, ...extra }),
    }),
  );
}

/** The Max-Age of the session cookie set by `response`, if any. */
function sessionMaxAge(response: Response): number | undefined {
  const line = response.headers.getSetCookie().find((entry) => entry.startsWith('__Host-session='));
  const match = line === undefined ? null : /Max-Age=(\d+)/i.exec(line);
  return match === null ? undefined : Number(match[1]);
}

describe('astro-sessionkit 0.1.33 README: sessionkit keeps the session', () => {
  let server: FixtureServer;
  let buildOutput = '';
  beforeAll(async () => {
    buildOutput = buildApp(`${appsRoot}astro-sessionkit`);
    server = await serveBuiltApp(`${appsRoot}astro-sessionkit`);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  const as = async (email: string): Promise<Browser> => {
    const browser = new Browser(server.url);
    const response = await signIn(browser, email);
    expect(response.status, `sign-in of ${email}`).toBe(200);
    return browser;
  };

  it('ask-01 Configure the Integration: role, roles and permission rules guard their pages', async () => {
    const guest = new Browser(server.url);
    const toLogin = await guest.fetch('/admin');
    expect(toLogin.status).toBe(303);
    expect(toLogin.headers.get('location')).toBe('/login?returnTo=%2Fadmin');
    const user = await as('user@example.com');
    expect((await user.fetch('/dashboard')).status).toBe(200);
    expect((await user.fetch('/admin')).status).toBe(403);
    expect((await user.fetch('/settings')).status).toBe(403);
    const admin = await as('admin@example.com');
    expect((await admin.fetch('/admin')).status).toBe(200);
    expect((await admin.fetch('/settings')).status).toBe(200);
    const staff = await as('staff@example.com');
    expect((await staff.fetch('/dashboard')).status).toBe(403); // roles: ['user', 'admin']
  });

  it('ask-02 globalProtect: false with exclude: exclude has no effect (as in 0.1.33), and the build says so', async () => {
    expect(buildOutput).toContain('exclude has no effect without globalProtect: true');
    const guest = new Browser(server.url);
    expect((await guest.fetch('/about')).status).toBe(200);
    expect((await guest.fetch('/public/info')).status).toBe(200);
    expect((await guest.fetch('/admin')).status).toBe(303);
  });

  it('ask-05 Register Sessions After Authentication: JSON fetch("/api/login") from a fresh page, with the page’s token', async () => {
    const browser = new Browser(server.url);
    const response = await signIn(browser, 'admin@example.com');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
    const dashboard = await browser.fetch('/dashboard');
    expect(await dashboard.text()).toContain('Welcome, admin@example.com');
    // Without the token (the README's bare fetch), the write is refused: CSRF protection is on.
    const bare = await new Browser(server.url).fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email: 'admin@example.com', password }),
    });
    expect(bare.status).toBe(403);
    expect(await bare.json()).toMatchObject({ error: { code: 'ERR_CSRF' } });
    // Wrong credentials: 401, nobody signed in.
    const wrong = await onPage(new Browser(server.url), '/login', () =>
      csrfFetch('/api/login', { method: 'POST', body: JSON.stringify({ email: 'admin@example.com', password: 'x' }) }),
    );
    expect(wrong.status).toBe(401);
  });

  it('ask-06 Use Session in Your Pages: getSession() / requireSession() in a page', async () => {
    const admin = await as('admin@example.com');
    const page = await (await admin.fetch('/dashboard')).text();
    expect(page).toContain('<h1>Welcome, admin@example.com</h1>');
    expect(page).toContain('<p id="same">true</p>');
    const guest = await new Browser(server.url).fetch('/dashboard');
    expect(guest.status).toBe(303); // signed out: a redirect to sign in, not a bare 401
  });

  it('ask-07 setSession(session, context, { ttl }): the session lives ttl seconds', async () => {
    const hour = new Browser(server.url);
    const signedIn = await signIn(hour, 'user@example.com', '/api/login-ttl');
    expect(sessionMaxAge(signedIn)).toBe(3600);
    const short = new Browser(server.url);
    const brief = await signIn(short, 'user@example.com', '/api/login-ttl', { ttl: 2 });
    expect(sessionMaxAge(brief)).toBe(2);
    expect((await short.fetch('/dashboard')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    // Past its ttl: the cookie's own expiry (checked inside the token) signs it out, browser or not.
    const later = await new Browser(server.url).fetch('/dashboard', { headers: { cookie: short.cookieHeader() } });
    expect(later.status).toBe(303);
    const tooLong = await signIn(new Browser(server.url), 'user@example.com', '/api/login-ttl', { ttl: 7200 });
    expect(tooLong.status).toBe(500); // longer than sessionTtl, the idle timeout: ERR_SESSION_INVALID
  });

  it('ask-08 sessionTtl: every sign-in lasts sessionTtl seconds from sign-in (touchOnRequest: false)', async () => {
    const browser = new Browser(server.url);
    const response = await signIn(browser, 'user@example.com');
    expect(sessionMaxAge(response)).toBe(3600);
    // Not extended by requests: no renewal cookie, whatever comes later.
    const again = await browser.fetch('/dashboard');
    expect(again.headers.getSetCookie()).toEqual([]);
  });

  it('ask-09 clearSession(context) / Logout Flow: signs out and deletes the cookie', async () => {
    const browser = await as('user@example.com');
    const token = metaToken(await (await browser.fetch('/login')).text())!;
    const response = await browser.fetch('/api/logout', {
      method: 'POST',
      headers: { 'x-csrf-token': token, origin: server.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login');
    expect(response.headers.getSetCookie().some((line) => /^__Host-session=;.*Max-Age=0/i.test(line))).toBe(true);
    expect((await browser.fetch('/dashboard')).status).toBe(303);
  });

  it('ask-10 updateSession(updates, context, options): merges, rotates the id on a role change, ttl restarts', async () => {
    const browser = await as('user@example.com');
    const before = browser.cookie('__Host-session');
    const response = await onPage(browser, '/login', () =>
      csrfFetch('/api/promote', { method: 'POST', body: JSON.stringify({ ttl: 600 }) }),
    );
    expect(response.status).toBe(200);
    expect(sessionMaxAge(response)).toBe(600);
    expect(browser.cookie('__Host-session')).not.toBe(before);
    expect(await (await browser.fetch('/api/helpers')).json()).toMatchObject({
      userId: 'u_user',
      hasRoleAdmin: true,
    });
    expect((await browser.fetch('/admin')).status).toBe(200);
  });

  it('ask-11..18 Session Access Functions: getSession, requireSession, isAuthenticated, hasRole, hasPermission, hasAllPermissions, hasAnyPermission, hasRolePermission', async () => {
    const guest = await (await new Browser(server.url).fetch('/api/helpers')).json();
    expect(guest).toEqual({
      userId: null,
      isAuthenticated: false,
      hasRoleAdmin: false,
      hasPermissionPostsDelete: false,
      hasAllPermissions: false,
      hasAnyPermission: false,
      hasRolePermission: false,
    });
    const admin = await (await (await as('admin@example.com')).fetch('/api/helpers')).json();
    expect(admin).toEqual({
      userId: 'u_admin',
      isAuthenticated: true,
      hasRoleAdmin: true,
      hasPermissionPostsDelete: false,
      hasAllPermissions: true,
      hasAnyPermission: false,
      hasRolePermission: true,
    });
    const user = await (await (await as('user@example.com')).fetch('/api/helpers')).json();
    expect(user).toMatchObject({ hasRoleAdmin: false, hasAllPermissions: false, hasRolePermission: false });
  });

  it('ask-12 requireSession() signed out: a redirect for pages, a JSON 401 for API routes (not a thrown Response)', async () => {
    expect((await new Browser(server.url).fetch('/dashboard')).status).toBe(303);
    const api = await new Browser(server.url).fetch('/api/admin');
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
  });

  it('ask-22 By Multiple Permissions: all of them, and every matching rule applies (/admin/** too)', async () => {
    const owner = await as('owner@example.com'); // admin with users:read and users:write
    expect((await owner.fetch('/admin/users')).status).toBe(200);
    const admin = await as('admin@example.com'); // admin without them: 0.1.33 let it through (first match only)
    expect((await admin.fetch('/admin/users')).status).toBe(403);
  });

  it('ask-23 Custom Logic (allow) from src/sessionkit.ts: called for signed-in sessions only', async () => {
    expect((await (await as('vip@example.com')).fetch('/premium/gold')).status).toBe(200);
    expect((await (await as('banned@example.com')).fetch('/premium/gold')).status).toBe(403);
    expect((await (await as('user@example.com')).fetch('/premium/gold')).status).toBe(403);
    const guest = await new Browser(server.url).fetch('/premium/gold');
    expect(guest.status).toBe(303);
    expect(guest.headers.get('location')).toBe('/login?returnTo=%2Fpremium%2Fgold');
  });

  it('ask-24 Custom Redirect (redirectTo): signed in but refused goes there; signed out goes to sign in', async () => {
    const user = await as('user@example.com');
    const refused = await user.fetch('/staff');
    expect(refused.status).toBe(303);
    expect(refused.headers.get('location')).toBe('/unauthorized');
    const guest = await new Browser(server.url).fetch('/staff');
    expect(guest.headers.get('location')).toBe('/login?returnTo=%2Fstaff');
    expect((await (await as('staff@example.com')).fetch('/staff')).status).toBe(200);
  });

  it('ask-32 Update Session Data (update-role): the new role applies at once, under a new session id', async () => {
    const browser = await as('admin@example.com');
    const before = browser.cookie('__Host-session');
    const response = await onPage(browser, '/login', () =>
      csrfFetch('/api/update-role', { method: 'POST', body: JSON.stringify({ newRole: 'user' }) }),
    );
    expect(await response.json()).toEqual({ success: true });
    expect(browser.cookie('__Host-session')).not.toBe(before);
    expect((await browser.fetch('/admin')).status).toBe(403);
  });

  it('ask-33 Complete Authentication Flow: the JSON answer, and the cookie flags the README set by hand', async () => {
    const browser = new Browser(server.url);
    const response = await signIn(browser, 'admin@example.com', '/api/auth/login');
    expect(await response.json()).toEqual({ success: true, user: { email: 'admin@example.com', role: 'admin' } });
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('__Host-session='))!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//i);
    const wrong = await signIn(new Browser(server.url), 'nobody@example.com', '/api/auth/login');
    expect(wrong.status).toBe(401);
  });

  it('ask-35 Conditional Rendering: hasRole / hasPermission in a page', async () => {
    const admin = await (await (await as('admin@example.com')).fetch('/')).text();
    expect(admin).toContain('<a href="/admin">Admin Panel</a>');
    expect(admin).toContain('<button>Create Post</button>');
    const user = await (await (await as('user@example.com')).fetch('/')).text();
    expect(user).not.toContain('Admin Panel');
    expect(user).not.toContain('Create Post');
  });

  it('ask-36 API Route Protection: requireSession() and hasRole() in an endpoint', async () => {
    expect((await new Browser(server.url).fetch('/api/admin')).status).toBe(401);
    const refused = await (await as('user@example.com')).fetch('/api/admin');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe('Forbidden');
    const allowed = await (await as('admin@example.com')).fetch('/api/admin');
    expect(await allowed.json()).toEqual({ data: 'secret', userId: 'u_admin' });
  });

  it('ask-37 Security: the session is stored, expired and CSRF-checked by sessionkit', async () => {
    const browser = await as('user@example.com');
    const value = browser.cookie('__Host-session')!;
    expect(value).not.toContain('user@example.com'); // sealed, not readable
    // A state-changing request without the token is refused, even from the same origin.
    const post = await browser.fetch('/api/update-role', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ newRole: 'admin' }),
    });
    expect(post.status).toBe(403);
    // A tampered cookie is no session.
    const tampered = `${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`;
    const forged = await new Browser(server.url).fetch('/dashboard', {
      headers: { cookie: `__Host-session=${tampered}` },
    });
    expect(forged.status).toBe(303);
  });
});

describe('astro-sessionkit 0.1.33 README: the app keeps its session (bridge mode)', () => {
  let server: FixtureServer;
  let buildOutput = '';
  beforeAll(async () => {
    buildOutput = buildApp(`${appsRoot}astro-sessionkit-bridge`);
    server = await serveBuiltApp(`${appsRoot}astro-sessionkit-bridge`);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  const withSessionId = (sessionId: string) => ({ headers: { cookie: `session_id=${sessionId}` } });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Signs in through the README's /api/login (JSON, same origin: CSRF tokens are off in bridge mode). */
  const signIn = (browser: Browser, body: object) =>
    browser.fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ password, ...body }),
    });

  it('ask-04 Set Up Your Session: setSession(data, context) in the app’s own middleware', async () => {
    const admin = new Browser(server.url);
    expect((await admin.fetch('/admin', withSessionId('sid-admin'))).status).toBe(200);
    const user = new Browser(server.url);
    const page = await user.fetch('/dashboard', withSessionId('sid-user'));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Welcome, user@example.com');
    expect((await user.fetch('/admin', withSessionId('sid-user'))).status).toBe(403);
  });

  it('ask-26 Global Protection: every route needs a session but the login page and exclude; exclusions inside a protect rule stay protected', async () => {
    expect(buildOutput).toContain('exclude[6] ("/admin/help") lies inside the protect rule "/admin/**"');
    const guest = new Browser(server.url);
    for (const path of ['/', '/login', '/about', '/public/info', '/api/health']) {
      expect((await guest.fetch(path)).status, path).toBe(200);
    }
    const blog = await guest.fetch('/blog');
    expect(blog.status).toBe(303);
    expect(blog.headers.get('location')).toBe('/login?returnTo=%2Fblog');
    expect((await guest.fetch('/admin/help')).status).toBe(303);
    expect((await new Browser(server.url).fetch('/admin/help', withSessionId('sid-user'))).status).toBe(403);
    expect((await new Browser(server.url).fetch('/admin/help', withSessionId('sid-admin'))).status).toBe(200);
    expect((await new Browser(server.url).fetch('/blog', withSessionId('sid-user'))).status).toBe(200);
    // Differs: 0.1.33 sent a signed-in visit to the login page to `/`; sessionkit shows the page.
    expect((await new Browser(server.url).fetch('/login', withSessionId('sid-user'))).status).toBe(200);
  });

  it('ask-27 Debug Mode: sessionkit logs its decisions to the console', async () => {
    await new Browser(server.url).fetch('/blog');
    expect(server.output()).toMatch(/\[sessionkit\] guard\.denied/);
  });

  it('ask-30 Custom Context Store: runWithContext / getContextStore from src/sessionkit.ts carry the request', async () => {
    const body = await (await new Browser(server.url).fetch('/api/whoami', withSessionId('sid-admin'))).json();
    expect(body).toMatchObject({ userId: 'u_admin', admin: true });
    expect(body.calls.run).toBeGreaterThan(0);
    expect(body.calls.get).toBeGreaterThan(0);
  });

  it('ask-05b Register Sessions After Authentication with the app’s own session_id cookie (bridge mode)', async () => {
    const browser = new Browser(server.url);
    const response = await signIn(browser, { email: 'user@example.com' });
    expect(response.status).toBe(200);
    expect(browser.cookie('session_id')).toBeDefined();
    expect(await (await browser.fetch('/dashboard')).text()).toContain('Welcome, user@example.com');
  });

  it('ask-08b sessionTtl with touchOnRequest (bridge mode): each request extends the session by sessionTtl', async () => {
    // Astro's session only (no session_id cookie): its __session__ value carries the ttl.
    const browser = new Browser(server.url);
    expect((await signIn(browser, { email: 'user@example.com', ttl: 4 })).status).toBe(200);
    await sleep(2500);
    expect((await browser.fetch('/dashboard')).status).toBe(200); // touched: now + 4 s
    await sleep(2500);
    expect((await browser.fetch('/dashboard')).status).toBe(200); // 5 s after sign-in: alive because touched
    await sleep(4500);
    expect((await browser.fetch('/dashboard')).status).toBe(303); // 4.5 s without a request: gone
  });

  it('ask-07c setSession(data, context, { ttl }) in bridge mode: the ttl of the write into Astro’s session', async () => {
    const browser = new Browser(server.url);
    expect((await signIn(browser, { email: 'user@example.com', ttl: 1 })).status).toBe(200);
    await sleep(1600);
    expect((await browser.fetch('/dashboard')).status).toBe(303);
  });
});

describe('astro-sessionkit README items decided without an app', () => {
  it('ask-25 Pattern Matching: /admin exact, /admin/* one or more segments, /admin/** the path and below', async () => {
    const decide = async (pattern: string, path: string) => {
      const guard = createGuard({ loginPath: '/login', rules: [{ pattern, role: 'admin' }] });
      return (await guard.decide({ path, session: null, accept: 'text/html' })).action === 'allow';
    };
    const cases: [string, string, boolean][] = [
      ['/admin', '/admin', false],
      ['/admin', '/admin/users', true],
      ['/admin/*', '/admin', true],
      ['/admin/*', '/admin/users', false],
      ['/admin/*', '/admin/users/123', false],
      ['/admin/**', '/admin', false],
      ['/admin/**', '/admin/users', false],
      ['/admin/**', '/admin/x/y/z', false],
      ['/admin/**', '/administrator', true],
    ];
    for (const [pattern, path, allowed] of cases)
      expect(await decide(pattern, path), `${pattern} ${path}`).toBe(allowed);
  });

  it('ask-29c access.check replaces every built-in check (src/sessionkit.ts → the pipeline)', async () => {
    const kit = createSessionkit({
      secrets: testSecrets[0],
      csrf: false,
      protect: [{ pattern: '/admin/**', role: 'admin' }],
      access: { check: (_rule, session) => session?.customField === 'allowed' },
    });
    const signInWith = (data: Record<string, unknown>) =>
      kit.handle(new Request('https://app.test/sign-in'), async () => {
        await setSession({ userId: 'u_1', ...data });
        return new Response('ok');
      });
    const cookieOf = (response: Response) => response.headers.getSetCookie()[0]!.split(';')[0]!;
    const visit = (cookie: string) =>
      kit.handle(new Request('https://app.test/admin', { headers: { cookie, accept: 'text/html' } }), () => {
        return new Response('admin');
      });
    expect((await visit(cookieOf(await signInWith({ role: 'admin' })))).status).toBe(403);
    expect((await visit(cookieOf(await signInWith({ customField: 'allowed' })))).status).toBe(200);
  });

  it('ask-07b setSession / updateSession refuse a malformed ttl, naming the fix', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], csrf: false, expiry: { idleTimeoutSeconds: 600 } });
    await kit.handle(new Request('https://app.test/'), async () => {
      for (const ttl of [0, -5, 1.5, Number.NaN]) {
        expect(() => setSession({ userId: 'u_1' }, { ttl })).toThrow(
          expect.toSatisfy((error: unknown) => isSessionKitError(error, 'ERR_SESSION_INVALID')),
        );
      }
      expect(() => setSession({ userId: 'u_1' }, { ttl: 601 })).toThrow(/idle timeout \(600 s\)[\s\S]*Hint: Raise/);
      await setSession({ userId: 'u_1', role: 'user' }, { ttl: 60 });
      expect(() => updateSession({ role: 'admin' }, { ttl: 1000 })).toThrow(/longer than the idle timeout/);
      await updateSession({ role: 'admin' }, { ttl: 30 });
      expect(hasRole('admin')).toBe(true);
      return new Response('checked');
    });
  });
});
