/**
 * The demo app in a real browser (Debian's Chromium through playwright-core), with JavaScript
 * turned off unless a test needs it: sign-in, flash messages, roles and permissions, sign-out
 * and the back button, revocation across browsers, CSRF and rate limits. Takes the README's
 * screenshots (into docs/screenshots/ with `npm run screenshots`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, newContext, screenshot, signIn, signOut } from './support/browser.ts';
import { type DemoServer, demoAccounts, demoBuildLog, startDemo } from './support/demo.ts';

const { admin, user } = demoAccounts;
/** A second "device": another browser's user agent, so /devices shows two different rows. */
const safariOnMac =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

function uniqueEmail(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}@demo.test`;
}

async function flashText(page: Page): Promise<string | null> {
  const flash = page.locator('[data-flash]');
  return (await flash.count()) === 0 ? null : flash.first().textContent();
}

describe('demo app in Chromium', () => {
  let server: DemoServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A new browser profile, closed after the test. */
  async function profile(options: Parameters<typeof newContext>[2] = {}): Promise<Page> {
    const context = await newContext(browser, server.url, options);
    contexts.push(context);
    return context.newPage();
  }

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDemo(), launchChromium()]);
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the landing page shows the demo accounts and sets no cookie', async () => {
    const page = await profile();
    const response = await page.goto('/');
    expect(response?.status()).toBe(200);
    const text = await page.locator('main').textContent();
    for (const value of [admin.email, admin.password, user.email, user.password]) expect(text).toContain(value);
    expect(await page.context().cookies()).toEqual([]);
    await screenshot(page, 'landing');
  });

  it('signs in; the flash message appears once; the __Host- cookie is kept over http://127.0.0.1', async () => {
    const page = await profile();
    await page.goto('/login');
    await screenshot(page, 'login');
    // The sign-in form costs no session: its CSRF token is bound to a small cookie of its own.
    expect(await page.context().cookies()).toEqual([
      expect.objectContaining({
        name: '__Host-session-csrf',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
        path: '/',
      }),
    ]);
    await signIn(page, user.email, user.password);
    expect((await page.context().cookies()).map((cookie) => cookie.name)).toEqual(['__Host-session']);
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    expect(await page.getByTestId('dashboard').textContent()).toBe(`Hello, ${user.name}`);
    expect(await flashText(page)).toBe(`Signed in as ${user.name}. Welcome back!`);
    await screenshot(page, 'dashboard');

    // Chromium treats 127.0.0.1 as a secure context, so the Secure, __Host- cookie is stored.
    const cookie = (await page.context().cookies()).find((entry) => entry.name === '__Host-session');
    expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });

    await page.reload();
    expect(await page.getByTestId('dashboard').count()).toBe(1);
    expect(await flashText(page)).toBeNull();
    await page.goto('/devices');
    expect(await flashText(page)).toBeNull();
  });

  it('the counter uses session.set with an updater and flashes after each action (PRG)', async () => {
    const page = await profile();
    await signIn(page, user.email, user.password);
    const before = Number(await page.getByTestId('count').textContent());
    const [response] = await Promise.all([page.waitForNavigation(), page.getByTestId('increment').click()]);
    expect(response?.request().method()).toBe('GET'); // POST, then 303 to a GET
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    expect(Number(await page.getByTestId('count').textContent())).toBe(before + 1);
    expect(await flashText(page)).toBe(`Counter updated to ${before + 1}.`);
    await page.reload();
    expect(await flashText(page)).toBeNull();
    expect(Number(await page.getByTestId('count').textContent())).toBe(before + 1);
  });

  it('a user gets 403 on the admin area and admin API; an admin gets 200', async () => {
    const anonymous = await profile();
    const signedOut = await anonymous.request.get('/api/me');
    expect(signedOut.status()).toBe(401);
    expect(await signedOut.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
    expect((await anonymous.request.get('/api/admin/stats')).status()).toBe(401);

    const asUser = await profile();
    await signIn(asUser, user.email, user.password);
    const denied = await asUser.goto('/admin');
    expect(denied?.status()).toBe(403);
    expect(await asUser.locator('body').textContent()).not.toContain('Users');
    // The app's own 403 page (forbiddenPage: '/403'), in the same layout as every page.
    expect(await asUser.getByTestId('forbidden').textContent()).toBe('No access');
    expect(await asUser.locator('main').textContent()).toContain(`Your account, ${user.email}, cannot open /admin`);
    expect(await asUser.locator('header.topbar .who').textContent()).toBe(user.name);
    expect(await asUser.locator('link[rel="stylesheet"]').count()).toBe(1);
    await screenshot(asUser, 'admin-403');
    expect((await asUser.goto('/reports'))?.status()).toBe(403);
    const me = await asUser.request.get('/api/me');
    expect(me.status()).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: user.email, role: 'user', permissions: [] } });
    const stats = await asUser.request.get('/api/admin/stats');
    expect(stats.status()).toBe(403);
    expect(await stats.json()).toMatchObject({ error: { code: 'ERR_FORBIDDEN' } });

    const asAdmin = await profile();
    await signIn(asAdmin, admin.email, admin.password);
    const allowed = await asAdmin.goto('/admin');
    expect(allowed?.status()).toBe(200);
    expect(await asAdmin.locator('main table').first().textContent()).toContain(user.email);
    await screenshot(asAdmin, 'admin');
    expect((await asAdmin.goto('/reports'))?.status()).toBe(200);
    expect(await asAdmin.getByTestId('reports').count()).toBe(1);
    const adminStats = await asAdmin.request.get('/api/admin/stats');
    expect(adminStats.status()).toBe(200);
    expect((await adminStats.json()).users).toBeGreaterThanOrEqual(2);
  });

  it("leaves Astro's own session storage off (session: false): sessionkit keeps the sessions", () => {
    const log = readFileSync(demoBuildLog, 'utf8');
    expect(log).toContain('[build] Complete!');
    expect(log).not.toContain('Enabling sessions');
  });

  it('sends browser security headers; another site cannot frame its pages (the sign-out buttons)', async () => {
    const page = await profile({ javaScriptEnabled: true });
    await signIn(page, user.email, user.password);
    const devices = await page.goto('/devices');
    const headers = devices?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("script-src 'self';");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(await page.getByRole('button', { name: 'Sign out everywhere', exact: true }).count()).toBe(1);

    // A page on another origin (same site: the session cookie is sent to the frame) frames the
    // devices page, and, as a control, the stylesheet (a static file: no such header).
    const stylesheet = await page.locator('link[rel="stylesheet"]').getAttribute('href');
    const attacker = createServer((_, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(
        `<iframe id="devices" src="${server.url}/devices"></iframe><iframe id="control" src="${server.url}${stylesheet}"></iframe>`,
      );
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = attacker.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' });
      const frameOf = async (id: string) => (await page.locator(`#${id}`).elementHandle())?.contentFrame();
      const control = await frameOf('control');
      expect(control?.url()).toBe(`${server.url}${stylesheet}`);
      const framed = await frameOf('devices');
      expect(framed?.url()).not.toBe(`${server.url}/devices`);
      expect(await framed?.locator('button').count()).toBe(0);
    } finally {
      attacker.close();
    }
  });

  it('sends signed-out visitors to sign in, then back where they were going (returnTo)', async () => {
    const page = await profile();
    await page.goto('/reports');
    const url = new URL(page.url());
    expect(url.pathname).toBe('/login');
    expect(url.searchParams.get('returnTo')).toBe('/reports');
    await page.fill('input[name="email"]', admin.email);
    await page.fill('input[name="password"]', admin.password);
    await Promise.all([page.waitForNavigation(), page.click('form.stack button[type="submit"]')]);
    expect(new URL(page.url()).pathname).toBe('/reports');
  });

  it('signs out; the back button does not show the protected page again', async () => {
    const page = await profile();
    await signIn(page, user.email, user.password);
    const dashboard = await page.goto('/dashboard');
    expect(dashboard?.headers()['cache-control']).toContain('no-store');
    await signOut(page);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await flashText(page)).toBe('You have been signed out.');
    expect((await page.context().cookies()).some((cookie) => cookie.name === '__Host-session')).toBe(true);

    await page.goBack();
    await page.waitForLoadState();
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.getByTestId('dashboard').count()).toBe(0);
    expect(await page.locator('body').textContent()).not.toContain(`Hello, ${user.name}`);
    // And directly: signed out for real.
    await page.goto('/dashboard');
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('signs up, then a second browser revokes the first one from "your devices"', async () => {
    const email = uniqueEmail('devices');
    const password = 'correct horse battery';
    const first = await profile();
    await first.goto('/signup');
    await first.fill('input[name="name"]', 'Dev Ice');
    await first.fill('input[name="email"]', email);
    await first.fill('input[name="password"]', password);
    await Promise.all([first.waitForNavigation(), first.click('form.stack button[type="submit"]')]);
    expect(new URL(first.url()).pathname).toBe('/dashboard');
    expect(await flashText(first)).toBe('Welcome, Dev Ice! Your account is ready.');

    const second = await profile({ userAgent: safariOnMac });
    await signIn(second, email, password, '/login?returnTo=%2Fdevices');
    expect(new URL(second.url()).pathname).toBe('/devices');
    const rows = second.locator('[data-testid="sessions"] tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await second.locator('tr[data-session="current"]').textContent()).toContain('Safari 17 on macOS');
    expect(await second.locator('tr[data-session="current"]').textContent()).toContain('this device');
    expect(await second.locator('tr[data-session="other"]').textContent()).toContain('Chrome');
    await screenshot(second, 'devices');

    await Promise.all([second.waitForNavigation(), second.click('tr[data-session="other"] button')]);
    expect(await flashText(second)).toBe('That device has been signed out.');
    expect(await rows.count()).toBe(1);

    // The first browser's next navigation finds its session gone.
    await first.goto('/dashboard');
    const url = new URL(first.url());
    expect(url.pathname).toBe('/login');
    expect(url.searchParams.get('returnTo')).toBe('/dashboard');
  });

  it('"sign out everywhere else" keeps this device; "sign out everywhere" ends them all', async () => {
    const email = uniqueEmail('everywhere');
    const password = 'correct horse battery';
    const first = await profile();
    await first.goto('/signup');
    await first.fill('input[name="name"]', 'Eve Rywhere');
    await first.fill('input[name="email"]', email);
    await first.fill('input[name="password"]', password);
    await Promise.all([first.waitForNavigation(), first.click('form.stack button[type="submit"]')]);
    const second = await profile({ userAgent: safariOnMac });
    await signIn(second, email, password, '/login?returnTo=%2Fdevices');

    await Promise.all([
      second.waitForNavigation(),
      second.getByRole('button', { name: 'Sign out everywhere else', exact: true }).click(),
    ]);
    expect(await flashText(second)).toBe('Signed out 1 other device.');
    await first.goto('/dashboard');
    expect(new URL(first.url()).pathname).toBe('/login');
    expect((await second.goto('/dashboard'))?.status()).toBe(200);

    await signIn(first, email, password);
    await second.goto('/devices');
    await Promise.all([
      second.waitForNavigation(),
      second.getByRole('button', { name: 'Sign out everywhere', exact: true }).click(),
    ]);
    expect(new URL(second.url()).pathname).toBe('/login');
    expect(await flashText(second)).toBe('You have been signed out everywhere.');
    await first.goto('/dashboard');
    expect(new URL(first.url()).pathname).toBe('/login');
  });

  it('rejects a form posted without its CSRF token (403) and changes nothing', async () => {
    const page = await profile({ javaScriptEnabled: true });
    await signIn(page, user.email, user.password);
    const before = Number(await page.getByTestId('count').textContent());

    // A real form submission whose hidden token was removed.
    await page.evaluate(() => {
      for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.remove();
    });
    const [response] = await Promise.all([page.waitForNavigation(), page.getByTestId('increment').click()]);
    expect(response?.status()).toBe(403);
    // A browser form post gets a page explaining what happened, not raw JSON.
    expect(await page.locator('h1').textContent()).toBe('This form has expired');

    // The same POST from the page's own origin and cookies, without a token.
    const posted = await page.request.post('/dashboard', {
      form: { action: 'increment' },
      headers: { origin: server.url },
      maxRedirects: 0,
    });
    expect(posted.status()).toBe(403);

    await page.goto('/dashboard');
    expect(Number(await page.getByTestId('count').textContent())).toBe(before);
  });

  it('limits wrong passwords per account and address: the 6th attempt gets 429 with Retry-After', async () => {
    const page = await profile();
    const email = uniqueEmail('locked');
    for (let attempt = 1; attempt <= 6; attempt++) {
      await page.goto('/login');
      await page.fill('input[name="email"]', email);
      await page.fill('input[name="password"]', `wrong password ${attempt}`);
      const [response] = await Promise.all([page.waitForNavigation(), page.click('form.stack button[type="submit"]')]);
      if (attempt <= 5) {
        expect(response?.status(), `attempt ${attempt}`).toBe(401);
        expect(await flashText(page)).toBe('That email and password do not match an account.');
      } else {
        expect(response?.status()).toBe(429);
        expect(Number(response?.headers()['retry-after'])).toBeGreaterThan(800);
        expect(await flashText(page)).toBe('Too many sign-in attempts for this account. Try again in 15 minutes.');
      }
    }
  });
});
