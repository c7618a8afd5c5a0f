import { parseSetCookie } from 'cookie';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CookieJar, testSecrets } from '../../test/support/fixtures.ts';
import type { LogFields } from '../core/events.ts';
import type { SessionStore } from '../core/store.ts';
import {
  clearSession,
  getCsrfToken,
  getSession,
  getSessionHandle,
  regenerateSession,
  setSession,
} from '../server/index.ts';
import { memoryStore } from '../stores/memory.ts';
import { createSessionkit, type Sessionkit } from './sessionkit.ts';

const origin = 'https://app.test';
const sessionCookie = '__Host-session';
const anonymousCookie = '__Host-session-csrf';
const html = 'text/html,application/xhtml+xml';

/**
 * A real memory store that can be switched to refuse every write, as a store on a read-only
 * disk or a Redis replica does (reads keep working), or to refuse everything (down).
 */
function switchableStore() {
  const store = memoryStore();
  let readOnly = false;
  let down = false;
  const refuse = (): Promise<never> => Promise.reject(new Error('READONLY: the store cannot write'));
  const wrapped: SessionStore = {
    name: 'read-only-test',
    capabilities: store.capabilities,
    get: (id) => (down ? Promise.reject(new Error('ECONNREFUSED')) : store.get(id)),
    create: (session, options) => (readOnly ? refuse() : store.create(session, options)),
    patch: (id, patch) => (readOnly ? refuse() : store.patch(id, patch)),
    delete: (id) => (readOnly ? refuse() : store.delete(id)),
    listByUser: (userId, now) => store.listByUser(userId, now),
    deleteByUser: (userId, except) => (readOnly ? refuse() : store.deleteByUser(userId, except)),
  };
  return {
    store: wrapped,
    rows: async (id: string) => (await store.get(id)) !== undefined,
    setReadOnly(value: boolean) {
      readOnly = value;
    },
    setDown(value: boolean) {
      down = value;
      readOnly = value;
    },
  };
}

interface Logged {
  readonly level: string;
  readonly message: string;
  readonly fields: LogFields | undefined;
}

function setup() {
  const backing = switchableStore();
  const logged: Logged[] = [];
  const record =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      logged.push({ level, message, fields });
    };
  const kit = createSessionkit({
    secrets: testSecrets[0],
    store: backing.store,
    logger: { warn: record('warn'), error: record('error') },
  });
  return { kit, backing, logged };
}

function request(path: string, jar: CookieJar, init: { method?: string; accept?: string; body?: string } = {}) {
  const method = init.method ?? 'GET';
  return new Request(`${origin}${path}`, {
    method,
    headers: {
      accept: init.accept ?? html,
      cookie: jar.header(),
      ...(method === 'GET' ? {} : { origin, 'sec-fetch-site': 'same-origin' }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
    },
    body: init.body,
  });
}

async function tokenOf(kit: Sessionkit, jar: CookieJar): Promise<string> {
  let token = '';
  const page = await kit.handle(request('/login', jar), () => {
    token = getCsrfToken();
    return new Response('form');
  });
  jar.apply(page.headers.getSetCookie());
  return token;
}

async function signIn(kit: Sessionkit, jar: CookieJar, userId: string): Promise<Response> {
  const token = await tokenOf(kit, jar);
  const response = await kit.handle(
    request('/login', jar, { method: 'POST', body: new URLSearchParams({ csrf_token: token }).toString() }),
    async () => {
      await setSession({ userId });
      return new Response(null, { status: 303, headers: { location: '/dashboard' } });
    },
  );
  jar.apply(response.headers.getSetCookie());
  return response;
}

/** The demo's sign-out: end the session, start a fresh one that only says goodbye. */
async function signOut(kit: Sessionkit, jar: CookieJar, token: string): Promise<Response> {
  const response = await kit.handle(
    request('/logout', jar, { method: 'POST', body: new URLSearchParams({ csrf_token: token }).toString() }),
    async () => {
      await clearSession();
      await regenerateSession();
      getSessionHandle().flash('notice', 'You have been signed out.');
      return new Response(null, { status: 303, headers: { location: '/login' } });
    },
  );
  jar.apply(response.headers.getSetCookie());
  return response;
}

function cookieLine(response: Response, name: string) {
  return response.headers
    .getSetCookie()
    .map((line) => parseSetCookie(line))
    .find((cookie) => cookie.name === name);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a store that cannot write locks nobody in or out', () => {
  it('sign-out clears the cookie although the store cannot delete the session, and says so in the log', async () => {
    const { kit, backing, logged } = setup();
    const jar = new CookieJar();
    await signIn(kit, jar, 'u_alice');
    const sessionId = jar.get(sessionCookie)?.split('.')[0] as string;
    const token = await tokenOf(kit, jar);
    backing.setReadOnly(true);

    const response = await signOut(kit, jar, token);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login');
    expect(cookieLine(response, sessionCookie)?.maxAge).toBe(0);
    expect(jar.get(sessionCookie)).toBeUndefined();
    expect(await whoIs(kit, jar)).toBeNull();
    // The record stays until it expires (or is revoked), and the log says which one.
    expect(await backing.rows(sessionId)).toBe(true);
    const line = logged.find((entry) => entry.message.startsWith('[sessionkit] sign-out:'));
    expect(line).toMatchObject({ level: 'error', fields: { sessionId } });
    expect(line?.message).toMatch(/stays in the store until it expires \(\d{4}-\d\d-\d\dT/);
  });

  it('sign-out then a new sign-in in one request: the old cookie is cleared, the new sign-in answers 503', async () => {
    const { kit, backing } = setup();
    const jar = new CookieJar();
    await signIn(kit, jar, 'u_alice');
    const token = await tokenOf(kit, jar);
    backing.setReadOnly(true);
    const response = await kit.handle(
      request('/switch', jar, { method: 'POST', body: new URLSearchParams({ csrf_token: token }).toString() }),
      async () => {
        await clearSession();
        await setSession({ userId: 'u_bob' });
        return new Response('switched');
      },
    );
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(cookieLine(response, sessionCookie)?.maxAge).toBe(0);
  });

  it('the sign-in page works; a sign-in answers an HTML 503 to the browser and JSON to a script, changing nothing', async () => {
    const { kit, backing } = setup();
    backing.setReadOnly(true);
    const jar = new CookieJar();
    const token = await tokenOf(kit, jar);
    expect(token).not.toBe('');
    expect(jar.names()).toEqual([anonymousCookie]);

    const browser = await signIn(kit, jar, 'u_alice');
    expect(browser.status).toBe(503);
    expect(browser.headers.get('content-type')).toContain('text/html');
    expect(browser.headers.get('retry-after')).toBe('5');
    expect(await browser.text()).toContain('Service unavailable');
    expect(browser.headers.getSetCookie()).toEqual([]);
    expect(jar.names()).toEqual([anonymousCookie]);

    const script = await kit.handle(
      new Request(`${origin}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': token, cookie: jar.header(), origin },
        body: '{}',
      }),
      async () => {
        await setSession({ userId: 'u_alice' });
        return Response.json({ ok: true });
      },
    );
    expect(script.status).toBe(503);
    expect(await script.json()).toMatchObject({ error: { code: 'ERR_STORE_UNAVAILABLE' } });
  });

  it('a signed-in page due for renewal is served with its cookie as it is (the renewal waits)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { kit, backing, logged } = setup();
    const jar = new CookieJar();
    await signIn(kit, jar, 'u_alice');
    backing.setReadOnly(true);
    vi.setSystemTime(Date.now() + 3 * 60 * 60 * 1000); // past the renewal throttle (2.4 h)
    let seen: string | undefined;
    const page = await kit.handle(request('/', jar), () => {
      seen = getSession()?.userId;
      return new Response('home');
    });
    expect(page.status).toBe(200);
    expect(seen).toBe('u_alice');
    expect(cookieLine(page, sessionCookie)).toBeUndefined();
    expect(logged.some((entry) => entry.message.includes('session renewal (or a flash message read) not saved'))).toBe(
      true,
    );
  });

  it('a page that reads a flash message is served; the message, not removed, shows once more', async () => {
    const { kit, backing } = setup();
    const jar = new CookieJar();
    await signIn(kit, jar, 'u_alice');
    const flashed = await kit.handle(request('/save', jar), () => {
      getSessionHandle().flash('notice', 'Saved');
      return new Response('saved');
    });
    jar.apply(flashed.headers.getSetCookie());
    backing.setReadOnly(true);
    const read = () =>
      kit.handle(request('/', jar), () => new Response(String(getSessionHandle().flash('notice') ?? 'none')));
    const first = await read();
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('Saved');
    expect(await (await read()).text()).toBe('Saved');
    backing.setReadOnly(false);
    expect(await (await read()).text()).toBe('Saved');
    expect(await (await read()).text()).toBe('none');
  });

  it('a page that writes data while the store cannot write answers 503 (HTML to a browser) and keeps the cookie', async () => {
    const { kit, backing } = setup();
    const jar = new CookieJar();
    await signIn(kit, jar, 'u_alice');
    backing.setReadOnly(true);
    const response = await kit.handle(request('/', jar), () => {
      getSessionHandle().set('theme', 'dark');
      return new Response('home');
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.getSetCookie()).toEqual([]);
    backing.setReadOnly(false);
    expect(await whoIs(kit, jar)).toBe('u_alice');
  });
});

describe('a store that is down (cannot even read)', () => {
  it('a sign-in whose session cannot be loaded answers 503, never a sign-in silently dropped', async () => {
    const { kit, backing } = setup();
    const jar = new CookieJar();
    // The sign-in form (its token bound to the anonymous cookie), then a flash message stored a session.
    const token = await tokenOf(kit, jar);
    const flashed = await kit.handle(request('/hello', jar), () => {
      getSessionHandle().flash('notice', 'Hello');
      return new Response('hello');
    });
    jar.apply(flashed.headers.getSetCookie());
    expect(jar.names().sort()).toEqual([anonymousCookie, sessionCookie].sort());
    backing.setDown(true);
    let ran = false;
    const response = await kit.handle(
      request('/login', jar, { method: 'POST', body: new URLSearchParams({ csrf_token: token }).toString() }),
      async () => {
        ran = true;
        await setSession({ userId: 'u_alice' });
        return new Response(null, { status: 303, headers: { location: '/dashboard' } });
      },
    );
    expect(ran).toBe(true);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('a form whose token is bound to a session that cannot be read gets the 503, not a "form expired" 403', async () => {
    const { kit, backing } = setup();
    const jar = new CookieJar();
    await signIn(kit, jar, 'u_alice');
    const token = await tokenOf(kit, jar);
    backing.setDown(true);
    let ran = false;
    const response = await kit.handle(
      request('/save', jar, { method: 'POST', body: new URLSearchParams({ csrf_token: token }).toString() }),
      () => {
        ran = true;
        return new Response('saved');
      },
    );
    expect(response.status).toBe(503);
    expect(ran).toBe(false);
  });

  it('a page that writes to the stand-in session during an outage answers 503 (HTML to a browser)', async () => {
    const { kit, backing } = setup();
    const jar = new CookieJar();
    await signIn(kit, jar, 'u_alice');
    backing.setDown(true);
    const response = await kit.handle(request('/', jar), () => {
      getSessionHandle().flash('notice', 'Saved');
      return new Response('home');
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.getSetCookie()).toEqual([]);
    const reading = await kit.handle(request('/', jar), () => new Response('home'));
    expect(reading.status).toBe(200);
  });
});

async function whoIs(kit: Sessionkit, jar: CookieJar): Promise<string | null> {
  let userId: string | null = null;
  await kit.handle(request('/', jar), () => {
    userId = getSession()?.userId ?? null;
    return new Response('ok');
  });
  return userId;
}
