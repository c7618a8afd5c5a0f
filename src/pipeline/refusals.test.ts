import { describe, expect, it } from 'vitest';
import { browserAccept, browserFormPost, CookieJar, testSecrets } from '../../test/support/fixtures.ts';
import type { LogFields } from '../core/events.ts';
import type { CsrfFailureReason } from '../csrf/protection.ts';
import { getCsrfToken, setSession } from '../server/index.ts';
import { runRequest } from './handle.ts';
import { type CsrfRefusal, createPipeline, type SessionkitOptions } from './options.ts';
import type { RequestContext } from './sessionkit.ts';

const origin = 'https://app.test';
const html = browserAccept;

interface Line {
  readonly level: string;
  readonly message: string;
  readonly fields: LogFields | undefined;
}

function setup(development = false, options: Partial<SessionkitOptions<RequestContext>> = {}) {
  const lines: Line[] = [];
  const refusals: CsrfRefusal[] = [];
  const log = (level: string) => (message: string, fields?: LogFields) => lines.push({ level, message, fields });
  const runtime = createPipeline<RequestContext>(
    {
      secrets: testSecrets[0],
      protect: [{ pattern: '/admin/**', role: 'admin' }],
      logger: { warn: log('warn'), error: log('error'), info: log('info'), debug: log('debug') },
      ...options,
    },
    { development, csrfRefused: (refusal) => refusals.push(refusal) },
  );
  const handle = (request: Request, next: () => Response | Promise<Response> = () => new Response('app')) =>
    Promise.resolve(
      runRequest(runtime, request, new URL(request.url), undefined, { request, url: new URL(request.url) }, next),
    );
  return { handle, lines, refusals };
}

function formPost(path: string, jar: CookieJar, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return browserFormPost(`${origin}${path}`, jar, fields, headers);
}

async function formToken(handle: ReturnType<typeof setup>['handle'], jar: CookieJar): Promise<string> {
  let token = '';
  const page = await handle(new Request(`${origin}/form`, { headers: { cookie: jar.header() } }), () => {
    token = getCsrfToken();
    return new Response('form');
  });
  jar.apply(page.headers.getSetCookie());
  return token;
}

describe('refused CSRF checks explain themselves', () => {
  const cases: [CsrfFailureReason, (jar: CookieJar, token: string) => Request, RegExp][] = [
    [
      'fetch-site',
      (jar, token) =>
        formPost('/save', jar, { csrf_token: token }, { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' }),
      /csrf\.trustedOrigins/,
    ],
    [
      'origin',
      (jar, token) =>
        new Request(`${origin}/save`, {
          method: 'POST',
          headers: { accept: html, origin: 'https://other.test', cookie: jar.header(), 'x-csrf-token': token },
        }),
      /handle\(request, next, \{ url \}\)/,
    ],
    ['missing-token', (jar) => formPost('/save', jar, { name: 'x' }), /hidden field named "csrf_token"/],
    [
      'no-session',
      (_jar, token) => formPost('/save', new CookieJar(), { csrf_token: token }),
      /Show the form from a page/,
    ],
    ['bad-token', (jar) => formPost('/save', jar, { csrf_token: `v1.${'A'.repeat(75)}` }), /session id changes/],
  ];

  it.each(cases)(
    '%s: one warn line naming reason, method, path and fix; never the token or a cookie',
    async (reason, make, fix) => {
      const { handle, lines, refusals } = setup();
      const jar = new CookieJar();
      const token = await formToken(handle, jar);
      const response = await handle(make(jar, token));
      expect(response.status).toBe(403);
      const warnings = lines.filter((line) => line.level === 'warn');
      expect(warnings).toHaveLength(1);
      const [line] = warnings as [Line];
      expect(line.fields).toEqual({ reason, method: 'POST', path: '/save' });
      expect(line.message).toMatch(/^\[sessionkit\] CSRF check refused: /);
      expect(line.message).toMatch(fix);
      const written = JSON.stringify(lines);
      expect(written).not.toContain(token);
      for (const value of jar
        .header()
        .split('; ')
        .map((pair) => pair.split('=')[1] as string)) {
        expect(written).not.toContain(value);
      }
      expect(refusals.map((refusal) => refusal.failure.reason)).toEqual([reason]);
      // Production page: the same for every reason, no details.
      const page = await response.text();
      expect(page).toContain('This form has expired');
      expect(page).not.toContain(reason);
    },
  );

  it('in development the 403 page names the reason and the fix', async () => {
    const { handle } = setup(true);
    const response = await handle(formPost('/save', new CookieJar(), { name: 'x' }));
    const page = await response.text();
    expect(response.status).toBe(403);
    expect(page).toContain('no-session');
    expect(page).toContain('Show the form from a page');
    expect(page).toContain('POST /save');
  });

  it('an oversized form is 413 with its own reason', async () => {
    const { handle, lines } = setup();
    const jar = new CookieJar();
    await formToken(handle, jar);
    const response = await handle(
      new Request(`${origin}/upload`, {
        method: 'POST',
        headers: { accept: html, 'content-type': 'application/x-www-form-urlencoded', origin, cookie: jar.header() },
        body: `x=${'a'.repeat(1024 * 1024 + 10)}`,
      }),
    );
    expect(response.status).toBe(413);
    expect(lines.map((line) => line.fields?.reason)).toEqual(['body-too-large']);
  });
});

describe('browser form posts get HTML, API requests JSON (one classifier)', () => {
  async function signedIn(handle: ReturnType<typeof setup>['handle']): Promise<{ jar: CookieJar; token: string }> {
    const jar = new CookieJar();
    const token = await formToken(handle, jar);
    const response = await handle(formPost('/login', jar, { csrf_token: token }), async () => {
      await setSession({ userId: 'u_1', role: 'user' });
      return new Response(null, { status: 303, headers: { location: '/' } });
    });
    jar.apply(response.headers.getSetCookie());
    return { jar, token: await formToken(handle, jar) };
  }

  it('a form post the guard refuses (403) gets an HTML page; the same post from a script gets JSON', async () => {
    const { handle } = setup();
    const { jar, token } = await signedIn(handle);
    const form = await handle(formPost('/admin/users', jar, { csrf_token: token }));
    expect(form.status).toBe(403);
    expect(form.headers.get('content-type')).toContain('text/html');
    expect(await form.text()).toContain('Forbidden');
    const script = await handle(
      new Request(`${origin}/admin/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': token, origin, cookie: jar.header() },
        body: '{}',
      }),
    );
    expect(script.status).toBe(403);
    expect(await script.json()).toMatchObject({ error: { code: 'ERR_FORBIDDEN' } });
  });

  it('a signed-out form post to a protected route gets an HTML 401 with a sign-in link, not a redirect', async () => {
    const { handle } = setup();
    const jar = new CookieJar();
    const token = await formToken(handle, jar);
    const response = await handle(formPost('/admin/users', jar, { csrf_token: token }));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Session');
    const page = await response.text();
    expect(page).toContain('Sign-in required');
    expect(page).toContain('href="/login"');
  });
});
