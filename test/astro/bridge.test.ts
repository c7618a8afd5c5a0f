import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, buildFixture, type FixtureServer, serveBuiltFixture } from '../support/astro.ts';

describe('bridge mode: guard-only adoption over Astro sessions, custom context store', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    buildFixture('astro-bridge');
    server = await serveBuiltFixture('astro-bridge');
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('ask-39 guards on the session the app put in context.session.__session__ (0.1.14 Set Up Your Session)', async () => {
    const anonymous = new Browser(server.url);
    expect((await anonymous.fetch('/dashboard')).status).toBe(303);
    const user = new Browser(server.url);
    const asUser = await user.fetch('/dashboard', { headers: { cookie: 'session_id=sid-user' } });
    expect(asUser.status).toBe(200);
    expect(await asUser.text()).toContain('Welcome, user@example.com');
    expect((await user.fetch('/admin', { headers: { cookie: 'session_id=sid-user' } })).status).toBe(403);
    const refused = await user.fetch('/admin', { headers: { cookie: 'session_id=sid-user', accept: 'text/html' } });
    expect(await refused.text()).toContain('No entry here');
    const admin = new Browser(server.url);
    expect((await admin.fetch('/admin', { headers: { cookie: 'session_id=sid-admin' } })).status).toBe(200);
  });

  it('sets no sessionkit cookie of its own', async () => {
    const response = await new Browser(server.url).fetch('/dashboard', { headers: { cookie: 'session_id=sid-user' } });
    expect(response.headers.getSetCookie().some((line) => line.startsWith('__Host-session'))).toBe(false);
  });

  it('refuses cross-origin writes, JSON included, without tokens', async () => {
    const browser = new Browser(server.url);
    const post = (origin: string) =>
      browser.fetch('/api/echo', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin, cookie: 'session_id=sid-user' },
        body: '{"hello":1}',
      });
    const same = await post(server.url);
    expect(same.status).toBe(200);
    expect(await same.text()).toBe('{"hello":1}');
    expect((await post('https://evil.example')).status).toBe(403);
  });

  it('uses the custom runWithContext / getContextStore pair for request-scoped helpers', async () => {
    const response = await new Browser(server.url).fetch('/api/context-calls', {
      headers: { cookie: 'session_id=sid-user' },
    });
    const body = await response.json();
    expect(body.signedIn).toBe(true);
    expect(body.run).toBeGreaterThan(0);
    expect(body.get).toBeGreaterThan(0);
  });
});
