import { parseSetCookie } from 'cookie';
import { describe, expect, it } from 'vitest';
import { CookieJar, testSecrets } from '../../test/support/fixtures.ts';
import { createCookieSessionStorage } from './cookie-storage.ts';

type SessionData = { count: number; user: { id: string } | null };
type FlashData = { error: string };

describe('createCookieSessionStorage', () => {
  it('astro-session shape: defaults + { cookie: { name, path, secret } }, counter across requests', async () => {
    const { getSession, commitSession } = createCookieSessionStorage<SessionData, FlashData>(
      { count: 0, user: null },
      { cookie: { name: '__session-id', path: '/', secret: testSecrets[0] } },
    );
    const jar = new CookieJar();
    for (let visit = 1; visit <= 3; visit++) {
      const request = new Request('https://app.test/', { headers: { cookie: jar.header() } });
      const session = await getSession(request);
      session.set('count', (value) => value + 1);
      jar.apply([await commitSession(session)]);
      expect(session.get('count')).toBe(visit);
    }
  });

  it('Remix shape: { cookie: { name, secrets, sameSite } } with a Cookie header string', async () => {
    const { getSession, commitSession, destroySession } = createCookieSessionStorage<SessionData>({
      cookie: { name: '__session', secrets: [testSecrets[0]], sameSite: 'strict' },
    });
    const session = await getSession(null);
    session.set('user', { id: 'u1' });
    const setCookie = await commitSession(session);
    expect(parseSetCookie(setCookie)).toMatchObject({
      name: '__session',
      sameSite: 'strict',
      httpOnly: true,
      secure: true,
    });
    const again = await getSession(setCookie.split(';')[0]);
    expect(again.get('user')).toEqual({ id: 'u1' });
    expect(parseSetCookie(await destroySession(again))).toMatchObject({ name: '__session', value: '', maxAge: 0 });
  });

  it('flash data survives exactly one following request', async () => {
    const { getSession, commitSession } = createCookieSessionStorage<SessionData, FlashData>(
      { count: 0, user: null },
      { cookie: { secret: testSecrets[0] } },
    );
    const jar = new CookieJar();
    const action = await getSession(jar.header());
    action.flash('error', 'Invalid email/password');
    jar.apply([await commitSession(action)]);

    const page = await getSession(jar.header());
    expect(page.flash('error')).toBe('Invalid email/password');
    jar.apply([await commitSession(page)]);

    const next = await getSession(jar.header());
    expect(next.flash('error')).toBeUndefined();
  });

  it('commitSession always returns a cookie; unchanged sessions repeat it without re-sealing', async () => {
    const { getSession, commitSession, commitSessionCookies } = createCookieSessionStorage<SessionData>(
      { count: 0, user: null },
      { cookie: { secret: testSecrets[0] } },
    );
    const fresh = await getSession();
    const first = await commitSession(fresh);
    expect(first).toMatch(/^__Host-session=v1\./);
    const loaded = await getSession(first.split(';')[0]);
    expect(await commitSessionCookies(loaded)).toEqual([]);
    const repeated = await commitSession(loaded);
    expect(repeated.split(';')[0]).toBe(first.split(';')[0]);
  });

  it('requires exactly one secret and rejects weak ones', () => {
    expect(() => createCookieSessionStorage({ cookie: {} })).toThrow(/exactly once/);
    expect(() => createCookieSessionStorage({ count: 0 }, { cookie: { secret: 'not-secret' } })).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_WEAK' }),
    );
    expect(() => createCookieSessionStorage({ cookie: { secret: testSecrets[0], secrets: [testSecrets[1]] } })).toThrow(
      /exactly once/,
    );
  });

  it('commitSession refuses a session that needs chunking; commitSessionCookies chunks it', async () => {
    const storage = createCookieSessionStorage<{ blob?: string }>({ cookie: { secret: testSecrets[0], maxChunks: 4 } });
    const session = await storage.getSession();
    session.set('blob', 'x'.repeat(6000));
    await expect(storage.commitSession(session)).rejects.toMatchObject({ code: 'ERR_COOKIE_TOO_LARGE' });
    const again = await storage.getSession();
    again.set('blob', 'x'.repeat(6000));
    const cookies = await storage.commitSessionCookies(again);
    expect(cookies.length).toBeGreaterThan(1);
    const jar = new CookieJar().apply(cookies);
    expect((await storage.getSession(jar.header())).get('blob')).toHaveLength(6000);
  });
});
