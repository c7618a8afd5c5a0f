import { parseSetCookie } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  maxCookieBytes,
  parseCookieHeader,
  readSessionCookie,
  resolveCookieSettings,
  type SessionCookieOptions,
  serializeSessionCookie,
} from './cookie.ts';

const defaults = resolveCookieSettings(undefined, 'test');

describe('resolveCookieSettings', () => {
  it('defaults to a __Host- cookie that is HttpOnly, Secure, SameSite=Lax, Path=/', () => {
    const [line] = serializeSessionCookie(defaults, 'v1.value', 3600).setCookies;
    const parsed = parseSetCookie(line!);
    expect(parsed).toMatchObject({
      name: '__Host-session',
      value: 'v1.value',
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
      path: '/',
      maxAge: 3600,
    });
    expect(parsed.domain).toBeUndefined();
  });

  it('forces HttpOnly and rejects httpOnly: false', () => {
    expect(() => resolveCookieSettings({ httpOnly: false }, 'test')).toThrow(/httpOnly cannot be false/);
  });

  it('enforces the __Host- and __Secure- prefix rules at run time', () => {
    expect(() => resolveCookieSettings({ name: '__Host-s', domain: 'example.com' }, 't')).toThrow(/__Host-/);
    expect(() => resolveCookieSettings({ name: '__Host-s', path: '/app' }, 't')).toThrow(/__Host-/);
    expect(() => resolveCookieSettings({ name: '__Host-s', secure: false }, 't')).toThrow(/__Host-/);
    expect(() => resolveCookieSettings({ name: '__Secure-s', secure: false }, 't')).toThrow(/__Secure-/);
    expect(() =>
      resolveCookieSettings({ name: 'plain', secure: false, path: '/app', domain: 'example.com' }, 't'),
    ).not.toThrow();
  });

  it('enforces the __Host- prefix rules in the types', () => {
    const check = <N extends string = '__Host-session'>(options: SessionCookieOptions<N>) => options;
    check({ name: '__Host-ok' });
    check({ secure: true });
    // @ts-expect-error the default name is __Host-session, so no domain either
    check({ domain: 'example.com' });
    // @ts-expect-error a __Host- cookie cannot have a domain
    check({ name: '__Host-bad', domain: 'example.com' });
    // @ts-expect-error a __Host- cookie must use path "/"
    check({ name: '__Host-bad', path: '/app' });
    // @ts-expect-error a __Secure- cookie must be secure
    check({ name: '__Secure-bad', secure: false });
    check({ name: 'plain', secure: false, domain: 'example.com' });
  });

  it('rejects unknown keys with a did-you-mean hint, bad names and sameSite none without secure', () => {
    expect(() => resolveCookieSettings({ sameSIte: 'lax' }, 't')).toThrow(/Did you mean "sameSite"/);
    expect(() => resolveCookieSettings({ name: 'bad name;' }, 't')).toThrow(/cookie token/);
    expect(() => resolveCookieSettings({ name: 'x', sameSite: 'none', secure: false }, 't')).toThrow(/none/);
    expect(() => resolveCookieSettings({ maxChunks: 0 }, 't')).toThrow(/maxChunks/);
  });
});

describe('session cookie size', () => {
  it('refuses a value over the limit by default with ERR_COOKIE_TOO_LARGE', () => {
    expect(() => serializeSessionCookie(defaults, 'x'.repeat(maxCookieBytes), 60)).toThrow(
      expect.objectContaining({ code: 'ERR_COOKIE_TOO_LARGE' }),
    );
  });

  it('chunks a large value when allowed, each cookie within 4096 bytes, and reads it back', () => {
    const settings = resolveCookieSettings({ maxChunks: 4 }, 't');
    const value = 'v1.'.concat('a'.repeat(9000));
    const { setCookies, names } = serializeSessionCookie(settings, value, 60);
    expect(names).toEqual(['__Host-session.0', '__Host-session.1', '__Host-session.2']);
    for (const line of setCookies) expect(line.length).toBeLessThanOrEqual(maxCookieBytes);
    const header = setCookies.map((line) => line.split(';')[0]).join('; ');
    expect(readSessionCookie(header, settings)).toEqual({ value, presentNames: names });
  });

  it('clears stale chunks when the session shrinks, and the single cookie when it grows', () => {
    const settings = resolveCookieSettings({ maxChunks: 4 }, 't');
    const present = ['__Host-session.0', '__Host-session.1', '__Host-session.2'];
    const shrunk = serializeSessionCookie(settings, 'v1.small', 60, present).setCookies.map((line) =>
      parseSetCookie(line),
    );
    expect(shrunk.map((c) => [c.name, c.maxAge])).toEqual([
      ['__Host-session', 60],
      ['__Host-session.0', 0],
      ['__Host-session.1', 0],
      ['__Host-session.2', 0],
    ]);
    const grown = serializeSessionCookie(settings, 'a'.repeat(5000), 60, ['__Host-session']).setCookies.map((line) =>
      parseSetCookie(line),
    );
    expect(grown.at(-1)).toMatchObject({ name: '__Host-session', maxAge: 0 });
  });

  it('treats a chunk set with a gap as incomplete and reports every present chunk', () => {
    const settings = resolveCookieSettings({ maxChunks: 4 }, 't');
    const read = readSessionCookie('__Host-session.0=a; __Host-session.2=c', settings);
    expect(read.value).toBeUndefined();
    expect(read.presentNames).toEqual(['__Host-session.0', '__Host-session.2']);
  });

  it('refuses more chunks than allowed', () => {
    const settings = resolveCookieSettings({ maxChunks: 2 }, 't');
    expect(() => serializeSessionCookie(settings, 'a'.repeat(9000), 60)).toThrow(
      expect.objectContaining({ code: 'ERR_COOKIE_TOO_LARGE' }),
    );
  });
});

describe('parseCookieHeader', () => {
  it('never throws on any header and only returns string values', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500, unit: 'binary' }), (header) => {
        const parsed = parseCookieHeader(header);
        for (const value of Object.values(parsed)) expect(typeof value).toBe('string');
        readSessionCookie(header, defaults);
        readSessionCookie(header, resolveCookieSettings({ maxChunks: 3 }, 't'));
      }),
      { numRuns: 3000 },
    );
  });

  it('does not percent-decode values (sealed tokens are plain base64url)', () => {
    expect(parseCookieHeader('a=%41')).toEqual({ a: '%41' });
  });
});
