/**
 * docs/migration/astro-session.md: the astro-session README's counter and login examples run on
 * sessionkit with only the import changed (plus the fixes the guide lists), using the exact
 * astro-session call shapes.
 */
import { parseSetCookie } from 'cookie';
import { createCookieSessionStorage, isSessionKitError } from 'sessionkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { astroGlobal, runFrontmatter, splitAstro } from './support/frontmatter.ts';
import { tamper } from './support/tamper.ts';

const snippets = new URL('./snippets/astro-session/src/', import.meta.url);
const counterPage = new URL('pages/index.astro', snippets).pathname;
const loginPage = new URL('pages/login.astro', snippets).pathname;
const origin = 'https://app.test';

type SessionModule = typeof import('./snippets/astro-session/src/session.ts');
type LoginModule = typeof import('./snippets/astro-session/src/pages/api/login.ts');
let sessionModule: SessionModule;
let loginModule: LoginModule;

beforeAll(async () => {
  process.env.SESSION_SECRET = testSecrets[0];
  sessionModule = await import('./snippets/astro-session/src/session.ts');
  loginModule = await import('./snippets/astro-session/src/pages/api/login.ts');
});

function get(path: string, jar: CookieJar): Request {
  return new Request(origin + path, { headers: { cookie: jar.header() } });
}

/** Renders a page snippet for one request and stores its Set-Cookie in the jar. */
async function visit(file: string, jar: CookieJar, expose: string[] = []) {
  const Astro = astroGlobal(get('/', jar));
  const result = await runFrontmatter(file, Astro, expose);
  const setCookie = Astro.response.headers.get('set-cookie');
  if (setCookie !== null) jar.apply([setCookie]);
  return { ...result, setCookie };
}

async function postLogin(jar: CookieJar, email: string, password: string): Promise<Response> {
  const request = new Request(`${origin}/api/login`, {
    method: 'POST',
    headers: { cookie: jar.header() },
    body: new URLSearchParams({ email, password }),
  });
  const response = (await loginModule.POST({ request } as never)) as Response;
  jar.apply(response.headers.getSetCookie());
  return response;
}

describe('astro-session call shapes on sessionkit', () => {
  it('createCookieSessionStorage<SessionData>(defaults, { cookie: { name, path, secret } }), set with an updater, flash, commitSession', async () => {
    type SessionData = { count: number; user: { id: string } | null };
    const { getSession, commitSession } = createCookieSessionStorage<SessionData>(
      { count: 0, user: null },
      { cookie: { name: '__session-id', path: '/', secret: testSecrets[1] } },
    );
    const first = await getSession(new Request(origin));
    first.set('count', (value) => value + 1);
    first.flash('error', 'Invalid email/password');
    const header = await commitSession(first);
    expect(typeof header).toBe('string');
    const response = new Response(null, { headers: { 'set-cookie': header } });
    const cookie = parseSetCookie(response.headers.get('set-cookie')!);
    expect(cookie).toMatchObject({ name: '__session-id', path: '/', httpOnly: true, secure: true, sameSite: 'lax' });

    const next = await getSession(new Request(origin, { headers: { cookie: `__session-id=${cookie.value}` } }));
    expect(next.get('count')).toBe(1);
    expect(next.flash('error')).toBe('Invalid email/password');
    expect(next.flash('error')).toBeUndefined();
  });

  it('the README secret "not-secret" is refused at start-up', () => {
    expect(() =>
      createCookieSessionStorage({ count: 0 }, { cookie: { name: '__session-id', path: '/', secret: 'not-secret' } }),
    ).toThrow(expect.toSatisfy((error: unknown) => isSessionKitError(error, 'ERR_SECRET_WEAK')));
  });
});

describe('src/pages/index.astro (counter)', () => {
  it('counts visits across requests through the encrypted cookie', async () => {
    expect(splitAstro(counterPage).template).toContain('{count}');
    const jar = new CookieJar();
    for (let expected = 1; expected <= 3; expected++) {
      const { values, setCookie } = await visit(counterPage, jar, ['count']);
      expect(values?.count).toBe(expected);
      expect(parseSetCookie(setCookie!)).toMatchObject({ name: '__session-id', httpOnly: true, secure: true });
    }
    expect(jar.get('__session-id')).toMatch(/^v1\./);
  });

  it('a tampered cookie starts a fresh session instead of trusting it', async () => {
    const jar = new CookieJar();
    await visit(counterPage, jar);
    await visit(counterPage, jar);
    const value = jar.get('__session-id')!;
    const tampered = new CookieJar().apply([`__session-id=${tamper(value)}; Path=/`]);
    const { values } = await visit(counterPage, tampered, ['count']);
    expect(values?.count).toBe(1);
  });

  it('defaults are cloned per session: one user never shows up in another session', async () => {
    const { getSession } = sessionModule;
    const a = await getSession(new Request(origin));
    a.set('user', { id: 'u_a', email: 'a@example.com' });
    const b = await getSession(new Request(origin));
    expect(b.get('user')).toBeNull();
    expect(b.get('count')).toBe(0);
  });
});

describe('src/pages/api/login.ts + src/pages/login.astro', () => {
  it('a failed sign-in flashes the error once (303 back to /login)', async () => {
    const jar = new CookieJar();
    const response = await postLogin(jar, 'ada@example.com', 'wrong');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login');

    const shown = await visit(loginPage, jar, ['error']);
    expect(shown.values?.error).toBe('Invalid email/password');
    const again = await visit(loginPage, jar, ['error']);
    expect(again.values?.error).toBeUndefined();
  });

  it('a successful sign-in stores the user under a new session id, then /login redirects', async () => {
    const jar = new CookieJar();
    await visit(counterPage, jar);
    const before = await sessionModule.getSession(get('/', jar));
    const response = await postLogin(jar, 'ada@example.com', 'correct horse');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dashboard');

    const after = await sessionModule.getSession(get('/', jar));
    expect(after.get('user')).toEqual({ id: 'u_ada', email: 'ada@example.com' });
    expect(after.get('count')).toBe(1);
    expect(after.id).not.toBe(before.id);

    const login = await visit(loginPage, jar);
    expect(login.returned?.status).toBe(302);
    expect(login.returned?.headers.get('location')).toBe('/dashboard');
  });

  it('destroySession signs out with a deletion cookie', async () => {
    const jar = new CookieJar();
    await postLogin(jar, 'ada@example.com', 'correct horse');
    const session = await sessionModule.getSession(get('/', jar));
    const header = await sessionModule.destroySession(session);
    expect(parseSetCookie(header).maxAge).toBe(0);
    jar.apply([header]);
    expect((await sessionModule.getSession(get('/', jar))).get('user')).toBeNull();
  });
});
