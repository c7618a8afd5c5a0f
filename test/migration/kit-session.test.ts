/**
 * docs/migration/kit-session.md: the kit-session README setup and endpoint, moved to
 * `sessionkit/compat/kit-session` by changing imports, run request by request.
 */
import { createHash } from 'node:crypto';
import { parseSetCookie } from 'cookie';
import { isSessionKitError } from 'sessionkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { tamper } from './support/tamper.ts';

type ServerModule = typeof import('./snippets/kit-session/src/server.ts');
type SessionModule = typeof import('./snippets/kit-session/src/session.ts');
let server: ServerModule;
let session: SessionModule;

beforeAll(async () => {
  // 32 random-looking bytes (a digest), not the bytes of text: those carry fewer bits and are refused.
  process.env.SESSION_SECRET_KEY_BASE64 = createHash('sha256').update(testSecrets[2]).digest('base64');
  server = await import('./snippets/kit-session/src/server.ts');
  session = await import('./snippets/kit-session/src/session.ts');
});

async function send(jar: CookieJar, path: string): Promise<{ status: number; body: unknown; setCookies: string[] }> {
  const response = await server.handle(new Request(`https://app.test${path}`, { headers: { cookie: jar.header() } }));
  const setCookies = response.headers.getSetCookie();
  jar.apply(setCookies);
  return { status: response.status, body: await response.json(), setCookies };
}

describe('kit-session README flow on sessionkit/compat/kit-session', () => {
  it('signed out: 401, and the flash value is saved in an encrypted __Host- cookie', async () => {
    const jar = new CookieJar();
    const { status, body, setCookies } = await send(jar, '/');
    expect(status).toBe(401);
    expect(body).toEqual({ error: 'Unauthorized' });
    const cookie = parseSetCookie(setCookies[0]!);
    expect(cookie).toMatchObject({ name: '__Host-Session', path: '/', httpOnly: true, secure: true, sameSite: 'lax' });
    expect(cookie.maxAge).toBe(24 * 60 * 60); // idle timeout (24 h) inside the 1-week lifetime
    expect(cookie.value).toMatch(/^v1\./);
    expect(cookie.value).not.toContain('Please log in');
  });

  it('sign-in rotates the session id; the counter then persists across requests', async () => {
    const jar = new CookieJar();
    await send(jar, '/');
    const anonymous = jar.get('__Host-Session');
    await send(jar, '/login');
    expect(jar.get('__Host-Session')).not.toBe(anonymous);
    expect((await send(jar, '/')).body).toEqual({ counter: 1 });
    expect((await send(jar, '/')).body).toEqual({ counter: 2 });

    const context = {};
    await session.loadSession(context, new Request('https://app.test/', { headers: { cookie: jar.header() } }));
    expect(session.sessionManager.getValue(context, 'userId')).toBe('u_1');
    expect(typeof session.sessionManager.getValue(context, 'lastVisit')).toBe('string');
  });

  it('a tampered cookie is a signed-out visitor', async () => {
    const jar = new CookieJar();
    await send(jar, '/login');
    const forged = new CookieJar().apply([`__Host-Session=${tamper(jar.get('__Host-Session')!)}; Path=/`]);
    expect((await send(forged, '/')).status).toBe(401);
  });

  it('sign-out deletes the cookie', async () => {
    const jar = new CookieJar();
    await send(jar, '/login');
    const { setCookies } = await send(jar, '/logout');
    expect(parseSetCookie(setCookies[0]!).maxAge).toBe(0);
    expect(jar.names()).toEqual([]);
    expect((await send(jar, '/')).status).toBe(401);
  });

  it('the setup refuses to start without its key', async () => {
    const { createCookieSessionStore, createSessionManager } = await import('sessionkit/compat/kit-session');
    expect(() => createSessionManager({ name: 'myAppSession', storage: createCookieSessionStore() })).toThrow(
      expect.toSatisfy((error: unknown) => isSessionKitError(error, 'ERR_CONFIG_INVALID')),
    );
  });
});
