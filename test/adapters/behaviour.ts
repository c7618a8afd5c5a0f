/**
 * One behaviour suite for every adapter: each test file starts the shared app (test/adapters/app.ts)
 * on its adapter, with its sessions in a private redis-server, and runs these tests against it over
 * HTTP. The store outage stops that redis-server for real.
 */
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/astro.ts';
import { type OwnRedis, startOwnRedis } from '../support/services.ts';

/** A running app of one adapter. */
export interface AdapterServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Serves a fetch handler on Node (through @hono/node-server's Request/Response bridge) on a free
 * loopback port; `stop` also runs `cleanUp` (closing the app's store client).
 */
export async function serveFetch(
  fetch: (request: Request) => Response | Promise<Response>,
  cleanUp: () => void,
): Promise<AdapterServer> {
  const server = serve({ fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      cleanUp();
    },
  };
}

const html = { accept: 'text/html,application/xhtml+xml' };

async function signIn(browser: Browser, userId: string, role: string): Promise<Response> {
  const token = await browser.csrfToken('/login');
  return browser.postJson('/api/login', { userId, role }, token);
}

/**
 * Runs the suite against the app `start` serves, given the port of its private redis-server.
 *
 * @param name - the adapter, for the suite's title
 */
export function describeBehaviour(name: string, start: (redisPort: number) => Promise<AdapterServer>): void {
  describe(`adapter behaviour: ${name}`, () => {
    let redis: OwnRedis;
    let server: AdapterServer;

    beforeAll(async () => {
      redis = await startOwnRedis();
      server = await start(redis.port);
    }, 180_000);

    afterAll(async () => {
      await server?.stop();
      await redis?.destroy();
    });

    it('signs in: the sign-in form costs no session (an anonymous CSRF cookie), then a session greets the user', async () => {
      const browser = new Browser(server.url);
      await browser.csrfToken('/login');
      expect(browser.cookie('__Host-session')).toBeUndefined();
      expect(browser.cookie('__Host-session-csrf')).toBeDefined();
      const response = await signIn(browser, 'u_alice', 'user');
      expect(response.status).toBe(200);
      expect(browser.cookie('__Host-session')).toBeDefined();
      expect(browser.cookie('__Host-session-csrf')).toBeUndefined();
      const dashboard = await browser.fetch('/dashboard', { headers: html });
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain('Welcome u_alice');
      expect(dashboard.headers.get('cache-control')).toBe('private, no-store');
      expect(dashboard.headers.get('vary')).toContain('Cookie');
    });

    it('guard: a signed-out page visit is sent to sign in (303 with returnTo)', async () => {
      const response = await new Browser(server.url).fetch('/dashboard', { headers: html });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/login?returnTo=%2Fdashboard');
    });

    it("guard: a page's requireSession() answers like the guard (303 for a page visit)", async () => {
      const response = await new Browser(server.url).fetch('/needs-session', { headers: html });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/login?returnTo=%2Fneeds-session');
    });

    it('guard: API requests get JSON 401 signed out and JSON 403 without the role; pages get 403', async () => {
      const browser = new Browser(server.url);
      const signedOut = await browser.fetch('/api/me');
      expect(signedOut.status).toBe(401);
      expect(signedOut.headers.get('www-authenticate')).toBe('Session');
      expect(await signedOut.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
      await signIn(browser, 'u_bob', 'user');
      expect(await (await browser.fetch('/api/me')).json()).toEqual({ userId: 'u_bob' });
      const forbidden = await browser.fetch('/api/admin/stats');
      expect(forbidden.status).toBe(403);
      expect(await forbidden.json()).toMatchObject({ error: { code: 'ERR_FORBIDDEN' } });
      const adminPage = await browser.fetch('/admin', { headers: html });
      expect(adminPage.status).toBe(403);
      expect(await adminPage.text()).not.toContain('Admin home');
      const admin = new Browser(server.url);
      await signIn(admin, 'u_carol', 'admin');
      expect(await (await admin.fetch('/api/admin/stats')).json()).toEqual({ secret: 42 });
    });

    it('CSRF: a write without the token, with a foreign token or from another site is refused (403)', async () => {
      const browser = new Browser(server.url);
      const token = await browser.csrfToken('/login');
      const post = (headers: Record<string, string>) =>
        browser.fetch('/api/flash', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{}',
        });
      const missing = await post({ origin: server.url });
      expect(missing.status).toBe(403);
      expect(await missing.json()).toMatchObject({ error: { code: 'ERR_CSRF', reason: 'missing-token' } });
      const crossSite = await post({
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
        'x-csrf-token': token,
      });
      expect(crossSite.status).toBe(403);
      const foreign = await new Browser(server.url).csrfToken('/login');
      expect((await post({ origin: server.url, 'x-csrf-token': foreign })).status).toBe(403);
      const form = await browser.fetch('/api/flash', {
        method: 'POST',
        headers: { ...html, 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
        body: 'x=1',
      });
      expect(form.status).toBe(403);
      expect(await form.text()).toContain('This form has expired');
      expect((await post({ origin: server.url, 'x-csrf-token': token })).status).toBe(200);
    });

    it('flash: a message set in one request is shown once on the next page', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'u_dan', 'user');
      const token = await browser.csrfToken('/login');
      expect((await browser.postJson('/api/flash', {}, token)).status).toBe(200);
      expect(await (await browser.fetch('/dashboard', { headers: html })).text()).toContain('<p id="notice">Saved</p>');
      expect(await (await browser.fetch('/dashboard', { headers: html })).text()).not.toContain('notice');
    });

    it('revoke: signing out the other devices rejects their very next request', async () => {
      const laptop = new Browser(server.url);
      const phone = new Browser(server.url);
      await signIn(laptop, 'u_erin', 'user');
      await signIn(phone, 'u_erin', 'user');
      expect((await phone.fetch('/api/me')).status).toBe(200);
      const token = await laptop.csrfToken('/login');
      const revoked = await laptop.postJson('/api/revoke-others', {}, token);
      expect(await revoked.json()).toEqual({ revoked: 1 });
      expect((await phone.fetch('/api/me')).status).toBe(401);
      expect((await laptop.fetch('/api/me')).status).toBe(200);
    });

    it('store outage: protected routes answer 503 with Retry-After, public ones still serve; back after restart', async () => {
      const browser = new Browser(server.url);
      await signIn(browser, 'u_fay', 'user');
      await redis.shutdown('nosave');
      try {
        const page = await browser.fetch('/dashboard', { headers: html });
        expect(page.status).toBe(503);
        expect(page.headers.get('retry-after')).toBe('5');
        const api = await browser.fetch('/api/me');
        expect(api.status).toBe(503);
        expect(await api.json()).toMatchObject({ error: { code: 'ERR_STORE_UNAVAILABLE' } });
        expect(api.headers.getSetCookie()).toEqual([]);
        expect((await browser.fetch('/')).status).toBe(200);
      } finally {
        await redis.start();
      }
      // Once the client has reconnected: the data was not persisted (nosave), so the old session is
      // gone (401, not 503), and a new sign-in works.
      await expect.poll(async () => (await browser.fetch('/api/me')).status, { timeout: 15_000 }).toBe(401);
      await signIn(browser, 'u_fay', 'user');
      expect((await browser.fetch('/api/me')).status).toBe(200);
    }, 60_000);
  });
}
