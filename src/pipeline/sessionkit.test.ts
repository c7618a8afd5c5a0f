import { parseSetCookie } from 'cookie';
import { describe, expect, it } from 'vitest';
import { CookieJar, testSecrets } from '../../test/support/fixtures.ts';
import type { SessionEvent } from '../core/events.ts';
import { clearSession, getSession, getSessionHandle, requireSession, setSession } from '../server/index.ts';
import { memoryStore } from '../stores/memory.ts';
import { createSessionkit, type Sessionkit } from './sessionkit.ts';

const origin = 'https://app.test';

function get(path: string, jar?: CookieJar, headers: Record<string, string> = {}): Request {
  return new Request(`${origin}${path}`, { headers: { ...headers, cookie: jar?.header() ?? '' } });
}

function post(path: string, jar: CookieJar, headers: Record<string, string> = {}): Request {
  return new Request(`${origin}${path}`, {
    method: 'POST',
    headers: { origin, 'sec-fetch-site': 'same-origin', ...headers, cookie: jar.header() },
  });
}

/** The names of the cookies a response sets or deletes, in order. */
function setCookieNames(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => parseSetCookie(line).name);
}

const ok = () => new Response('ok');

/** Signs `userId` in with one request and keeps the cookie in `jar`. */
async function signIn(kit: Sessionkit, jar: CookieJar, data: Record<string, unknown>): Promise<void> {
  const response = await kit.handle(get('/sign-in', jar), async () => {
    await setSession({ userId: 'u_1', ...data });
    return ok();
  });
  jar.apply(response.headers.getSetCookie());
}

describe('createSessionkit().handle: sign-out then sign-in in one request', () => {
  it('cookie mode: one Set-Cookie line for the cookie, carrying the new session', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], csrf: false });
    const jar = new CookieJar();
    await signIn(kit, jar, { userId: 'u_1' });
    const switched = await kit.handle(get('/switch', jar), async () => {
      await clearSession();
      await setSession({ userId: 'u_2' });
      return ok();
    });
    expect(setCookieNames(switched)).toEqual(['__Host-session']);
    jar.apply(switched.headers.getSetCookie());
    await kit.handle(get('/', jar), () => {
      expect(getSession()?.userId).toBe('u_2');
      return ok();
    });
  });

  it('store mode: the signed-out record is deleted, and the response still sets one cookie', async () => {
    const events: SessionEvent[] = [];
    const kit = createSessionkit({
      secrets: testSecrets[0],
      store: memoryStore(),
      csrf: false,
      onEvent: (event) => events.push(event),
    });
    const jar = new CookieJar();
    await signIn(kit, jar, { userId: 'u_1' });
    const oldCookie = jar.header();
    const switched = await kit.handle(get('/switch', jar), async () => {
      await clearSession();
      await setSession({ userId: 'u_2' });
      return ok();
    });
    expect(setCookieNames(switched)).toEqual(['__Host-session']);
    expect(events.map((event) => event.type)).toEqual(['session.created', 'session.destroyed', 'session.created']);
    // The old cookie no longer opens anything.
    await kit.handle(new Request(`${origin}/`, { headers: { cookie: oldCookie } }), () => {
      expect(getSession()).toBeNull();
      return ok();
    });
  });

  it('a sign-out alone deletes the cookie; a flash message after it starts a new anonymous session', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], csrf: false });
    const jar = new CookieJar();
    await signIn(kit, jar, { userId: 'u_1' });
    const out = await kit.handle(get('/out', jar), async () => {
      await clearSession();
      return ok();
    });
    expect(out.headers.getSetCookie()).toHaveLength(1);
    expect(parseSetCookie(out.headers.getSetCookie()[0]!).maxAge).toBe(0);

    const outWithFlash = await kit.handle(get('/out', jar), async () => {
      await clearSession();
      getSessionHandle().flash('notice', 'bye');
      return ok();
    });
    expect(setCookieNames(outWithFlash)).toEqual(['__Host-session']);
    jar.apply(outWithFlash.headers.getSetCookie());
    await kit.handle(get('/', jar), () => {
      expect(getSession()).toBeNull();
      expect(getSessionHandle().flash('notice')).toBe('bye');
      return ok();
    });
  });

  it('chunked cookies: the chunks the new session does not use are deleted once each', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], csrf: false, cookie: { maxChunks: 4 } });
    const jar = new CookieJar();
    const big = await kit.handle(get('/'), async () => {
      await setSession({ userId: 'u_1', blob: 'x'.repeat(9000) });
      return ok();
    });
    jar.apply(big.headers.getSetCookie());
    expect(jar.names().length).toBeGreaterThan(2);
    const switched = await kit.handle(get('/switch', jar), async () => {
      await clearSession();
      await setSession({ userId: 'u_2' });
      return ok();
    });
    const names = setCookieNames(switched);
    expect(new Set(names).size).toBe(names.length);
    jar.apply(switched.headers.getSetCookie());
    await kit.handle(get('/', jar), () => {
      expect(getSession()?.userId).toBe('u_2');
      return ok();
    });
  });
});

describe('createSessionkit().handle: answers', () => {
  const kit = createSessionkit({
    secrets: testSecrets[0],
    protect: [{ pattern: '/admin/**', role: 'admin' }],
  });

  it('a signed-out page visit to a protected route is sent to sign in (303); an API request gets JSON 401', async () => {
    let ran = false;
    const app = () => {
      ran = true;
      return ok();
    };
    const page = await kit.handle(get('/admin', undefined, { accept: 'text/html' }), app);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?returnTo=%2Fadmin');
    const api = await kit.handle(
      get('/api/x', undefined, { accept: 'application/json' }),
      () => requireSession() && ok(),
    );
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
    expect(ran).toBe(false);
  });

  it('requireSession() thrown by a page is the same sign-in redirect as the guard gives', async () => {
    const response = await kit.handle(get('/needs-session?x=1', undefined, { accept: 'text/html' }), () => {
      requireSession();
      return ok();
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?returnTo=%2Fneeds-session%3Fx%3D1');
  });

  it('a form post without a token gets an HTML page from a browser and JSON from a script, and the app does not run', async () => {
    let ran = false;
    const app = () => {
      ran = true;
      return ok();
    };
    const jar = new CookieJar();
    const browser = await kit.handle(post('/save', jar, { accept: 'text/html' }), app);
    expect(browser.status).toBe(403);
    expect(browser.headers.get('content-type')).toContain('text/html');
    const script = await kit.handle(post('/save', jar), app);
    expect(script.status).toBe(403);
    expect(await script.json()).toMatchObject({ error: { code: 'ERR_CSRF', reason: 'no-session' } });
    expect(ran).toBe(false);
  });

  it('a personal response is private, no-store and varies on Cookie', async () => {
    const response = await kit.handle(get('/'), async () => {
      await setSession({ userId: 'u_1' });
      return ok();
    });
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(response.headers.get('vary')).toBe('Cookie');
    const anonymous = await kit.handle(get('/'), ok);
    expect(anonymous.headers.get('cache-control')).toBeNull();
    expect(anonymous.headers.getSetCookie()).toEqual([]);
  });
});
