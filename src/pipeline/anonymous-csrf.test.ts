import { parseSetCookie } from 'cookie';
import { describe, expect, it } from 'vitest';
import { browserFormPost, CookieJar, testSecrets } from '../../test/support/fixtures.ts';
import type { SessionStore } from '../core/store.ts';
import { csrfTokenLength } from '../csrf/token.ts';
import { clearSession, getCsrfToken, getSession, getSessionHandle, setSession } from '../server/index.ts';
import { memoryStore } from '../stores/memory.ts';
import { createSessionkit, type Sessionkit } from './sessionkit.ts';

const origin = 'https://app.test';
const anonymousCookie = '__Host-session-csrf';
const sessionCookie = '__Host-session';
const ok = () => new Response('ok');

/** A memory store that counts the writes it is asked for. */
function countingStore(): SessionStore & { writes: () => number } {
  const store = memoryStore();
  let writes = 0;
  return {
    ...store,
    name: store.name,
    capabilities: store.capabilities,
    get: (id) => store.get(id),
    create(session, options) {
      writes++;
      return store.create(session, options);
    },
    patch(id, patch) {
      writes++;
      return store.patch(id, patch);
    },
    delete: (id) => store.delete(id),
    listByUser: (userId, now) => store.listByUser(userId, now),
    deleteByUser: (userId, except) => store.deleteByUser(userId, except),
    writes: () => writes,
  };
}

function get(path: string, jar?: CookieJar): Request {
  return new Request(`${origin}${path}`, { headers: { accept: 'text/html', cookie: jar?.header() ?? '' } });
}

/** A same-origin form post, as a browser sends it. */
function postForm(path: string, jar: CookieJar, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return browserFormPost(`${origin}${path}`, jar, fields, headers);
}

/** Shows the login form to `jar` and returns its token. */
async function showLoginForm(kit: Sessionkit, jar: CookieJar): Promise<{ token: string; response: Response }> {
  let token = '';
  const response = await kit.handle(get('/login', jar), () => {
    token = getCsrfToken();
    return new Response(`<input name="csrf_token" value="${token}">`, { headers: { 'content-type': 'text/html' } });
  });
  jar.apply(response.headers.getSetCookie());
  return { token, response };
}

/** Posts the login form: on success the app signs `userId` in. */
async function postLogin(
  kit: Sessionkit,
  jar: CookieJar,
  token: string,
  userId: string,
  headers: Record<string, string> = {},
): Promise<{ response: Response; ran: boolean }> {
  let ran = false;
  const response = await kit.handle(postForm('/login', jar, { csrf_token: token }, headers), async () => {
    ran = true;
    await setSession({ userId });
    return new Response(null, { status: 303, headers: { location: '/dashboard' } });
  });
  jar.apply(response.headers.getSetCookie());
  return { response, ran };
}

async function whoIs(kit: Sessionkit, jar: CookieJar): Promise<string | null> {
  let userId: string | null = null;
  await kit.handle(get('/', jar), () => {
    userId = getSession()?.userId ?? null;
    return ok();
  });
  return userId;
}

describe.each(['node', 'webcrypto'] as const)('anonymous forms without a session (%s engine)', (cryptoEngine) => {
  it('showing a form to 1,000 cookie-less visitors writes no session and sets only the anonymous CSRF cookie', async () => {
    const store = countingStore();
    const kit = createSessionkit({ secrets: testSecrets[0], store, cryptoEngine });
    for (let visitor = 0; visitor < 1000; visitor++) {
      const { token, response } = await showLoginForm(kit, new CookieJar());
      expect(token).toHaveLength(csrfTokenLength);
      const lines = response.headers.getSetCookie();
      expect(lines.map((line) => parseSetCookie(line).name)).toEqual([anonymousCookie]);
    }
    expect(store.writes()).toBe(0);
  });

  it('the anonymous cookie is __Host-, HttpOnly, Secure, SameSite=Lax, Path=/, 2 hours, with a random id', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], cryptoEngine });
    const { response } = await showLoginForm(kit, new CookieJar());
    const [line] = response.headers.getSetCookie();
    const cookie = parseSetCookie(line as string);
    expect(cookie).toMatchObject({ name: anonymousCookie, httpOnly: true, secure: true, sameSite: 'lax', path: '/' });
    expect(cookie.maxAge).toBe(7200);
    expect(cookie.domain).toBeUndefined();
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(response.headers.get('vary')).toBe('Cookie');
  });

  it('follows the session cookie: a cookie named "sid" over http gives "sid-csrf" without Secure', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], cryptoEngine, cookie: { name: 'sid', secure: false } });
    const { response } = await showLoginForm(kit, new CookieJar());
    const line = response.headers.getSetCookie()[0] as string;
    expect(parseSetCookie(line)).toMatchObject({ name: 'sid-csrf', httpOnly: true });
    expect(line).not.toMatch(/;\s*Secure/i);
  });

  it('cookie mode: no sealed cookie for an empty session', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], cryptoEngine });
    const jar = new CookieJar();
    await showLoginForm(kit, jar);
    expect(jar.names()).toEqual([anonymousCookie]);
  });

  it('the login POST with the anonymous token signs in, rotates into a session, and clears the anonymous cookie', async () => {
    const store = countingStore();
    const kit = createSessionkit({ secrets: testSecrets[0], store, cryptoEngine });
    const jar = new CookieJar();
    const { token } = await showLoginForm(kit, jar);
    const { response, ran } = await postLogin(kit, jar, token, 'u_alice');
    expect(ran).toBe(true);
    expect(response.status).toBe(303);
    const lines = response.headers.getSetCookie().map((line) => parseSetCookie(line));
    expect(lines.find((cookie) => cookie.name === anonymousCookie)?.maxAge).toBe(0);
    expect(jar.names()).toEqual([sessionCookie]);
    expect(store.writes()).toBe(1);
    expect(await whoIs(kit, jar)).toBe('u_alice');
  });

  it('a second form page keeps the same anonymous id: the first page’s token still works (two tabs)', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], cryptoEngine });
    const jar = new CookieJar();
    const first = await showLoginForm(kit, jar);
    const id = jar.get(anonymousCookie);
    await showLoginForm(kit, jar);
    expect(jar.get(anonymousCookie)).toBe(id);
    expect((await postLogin(kit, jar, first.token, 'u_tabs')).ran).toBe(true);
  });

  it("a token does not work with another visitor's anonymous cookie", async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], cryptoEngine });
    const attacker = new CookieJar();
    const victim = new CookieJar();
    const { token: attackerToken } = await showLoginForm(kit, attacker);
    await showLoginForm(kit, victim);
    const { response, ran } = await postLogin(kit, victim, attackerToken, 'u_x', { accept: 'application/json' });
    expect(ran).toBe(false);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'ERR_CSRF', reason: 'bad-token' } });
  });

  it('the anonymous token stops working once the sign-in rotated the session', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], cryptoEngine });
    const jar = new CookieJar();
    const { token } = await showLoginForm(kit, jar);
    await postLogin(kit, jar, token, 'u_alice');
    expect(jar.get(anonymousCookie)).toBeUndefined();
    const replay = await postLogin(kit, jar, token, 'u_mallory', { accept: 'application/json' });
    expect(replay.ran).toBe(false);
    expect(replay.response.status).toBe(403);
    expect(await replay.response.json()).toMatchObject({ error: { reason: 'bad-token' } });
    expect(await whoIs(kit, jar)).toBe('u_alice');
  });

  it("login CSRF: the attacker's own form, posted from the victim's browser, does not sign the victim in", async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], cryptoEngine });
    const attacker = new CookieJar();
    const victim = new CookieJar();
    const { token: attackerToken } = await showLoginForm(kit, attacker);
    await showLoginForm(kit, victim);
    // A cross-site auto-submitting form: the browser says so.
    const crossSite = await postLogin(kit, victim, attackerToken, 'u_attacker', {
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    });
    expect(crossSite.ran).toBe(false);
    expect(crossSite.response.status).toBe(403);
    expect(crossSite.response.headers.get('content-type')).toContain('text/html');
    // An old browser without Sec-Fetch-Site or Origin: the token alone decides, and it is not the victim's.
    const bare = new Request(`${origin}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: victim.header() },
      body: new URLSearchParams({ csrf_token: attackerToken }),
    });
    let ran = false;
    const answer = await kit.handle(bare, async () => {
      ran = true;
      await setSession({ userId: 'u_attacker' });
      return ok();
    });
    expect(ran).toBe(false);
    expect(answer.status).toBe(403);
    // Without any cookie of the victim's (a visitor who never saw the form): no-session.
    const { response } = await postLogin(kit, new CookieJar(), attackerToken, 'u_attacker', {
      accept: 'application/json',
    });
    expect(await response.json()).toMatchObject({ error: { reason: 'no-session' } });
    expect(await whoIs(kit, victim)).toBeNull();
  });

  it('a sign-out that shows the sign-in form in the same response: its token works, the old form’s does not', async () => {
    const kit = createSessionkit({ secrets: testSecrets[0], cryptoEngine });
    const jar = new CookieJar();
    const { token: oldToken } = await showLoginForm(kit, jar);
    await postLogin(kit, jar, oldToken, 'u_alice');
    const { token: signedInToken } = await showLoginForm(kit, jar);
    let newToken = '';
    const signedOut = await kit.handle(postForm('/logout', jar, { csrf_token: signedInToken }), async () => {
      await clearSession();
      newToken = getCsrfToken();
      return new Response(`<input name="csrf_token" value="${newToken}">`, {
        headers: { 'content-type': 'text/html' },
      });
    });
    jar.apply(signedOut.headers.getSetCookie());
    expect(await whoIs(kit, jar)).toBeNull();
    // On WebCrypto the page's token was issued before the app ran, for the session it ended.
    if (cryptoEngine === 'webcrypto') return;
    expect(jar.names()).toEqual([anonymousCookie]);
    expect((await postLogin(kit, jar, oldToken, 'u_old', { accept: 'application/json' })).ran).toBe(false);
    expect((await postLogin(kit, jar, newToken, 'u_bob')).ran).toBe(true);
  });

  it('a form shown before a flash made the session real still posts (both bindings are accepted)', async () => {
    const store = countingStore();
    const kit = createSessionkit({ secrets: testSecrets[0], store, cryptoEngine });
    const jar = new CookieJar();
    let token = '';
    const page = await kit.handle(get('/contact', jar), () => {
      token = getCsrfToken();
      getSessionHandle().flash('notice', 'Hello');
      return ok();
    });
    jar.apply(page.headers.getSetCookie());
    expect(jar.names().sort()).toEqual([sessionCookie, anonymousCookie].sort());
    expect((await postLogin(kit, jar, token, 'u_flash')).ran).toBe(true);
  });
});
