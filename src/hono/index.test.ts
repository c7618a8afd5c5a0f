import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { requireSession, setSession } from '../server/index.ts';
import { type SessionkitEnv, sessionkit } from './index.ts';

describe('sessionkit() Hono middleware', () => {
  it("rules receive Hono's context", async () => {
    const app = new Hono<SessionkitEnv>();
    app.use(
      sessionkit({
        secrets: testSecrets[0],
        csrf: false,
        protect: [{ pattern: '/beta/**', allow: (_session, c) => c.req.header('x-beta') === 'yes' }],
      }),
    );
    app.get('/sign-in', async (c) => {
      await setSession(c, { userId: 'u_1' });
      return c.text('in');
    });
    app.get('/beta/x', (c) => c.text('beta'));
    const cookie = (await app.request('/sign-in')).headers.getSetCookie()[0]!.split(';')[0]!;
    expect((await app.request('/beta/x', { headers: { cookie, 'x-beta': 'yes' } })).status).toBe(200);
    expect((await app.request('/beta/x', { headers: { cookie, accept: 'application/json' } })).status).toBe(403);
  });

  it("leaves the app's own error handling to other errors, and answers sessionkit's own", async () => {
    const app = new Hono<SessionkitEnv>();
    app.use(sessionkit({ secrets: testSecrets[0] }));
    app.onError((error, c) => c.text(`handled: ${error.message}`, 500));
    app.get('/broken', () => {
      throw new Error('boom');
    });
    app.get('/private', (c) => c.text(requireSession(c).userId));
    const broken = await app.request('/broken');
    expect(broken.status).toBe(500);
    expect(await broken.text()).toBe('handled: boom');
    const signedOut = await app.request('/private', { headers: { accept: 'text/html' } });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/login?returnTo=%2Fprivate');
  });

  it("keeps the handler's own cookies and adds the session cookie once", async () => {
    const app = new Hono<SessionkitEnv>();
    app.use(sessionkit({ secrets: testSecrets[0], csrf: false }));
    app.get('/both', async (c) => {
      await setSession(c, { userId: 'u_1' });
      c.header('set-cookie', 'theme=dark; Path=/', { append: true });
      return c.text('ok');
    });
    const names = (await app.request('/both')).headers.getSetCookie().map((line) => line.split('=')[0]);
    expect(names.sort()).toEqual(['__Host-session', 'theme']);
  });
});
