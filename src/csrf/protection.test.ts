import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CookieJar, createTestClock, testSecrets } from '../../test/support/fixtures.ts';
import type { SessionEvent } from '../core/events.ts';
import { createKeyRing } from '../core/keyring.ts';
import { createSessionManager } from '../core/manager.ts';
import {
  type CsrfProtectionOptions,
  createCsrfProtection,
  immediateTokenIssuerOf,
  isSafeMethod,
} from './protection.ts';
import { csrfFailureResponse } from './response.ts';

const site = 'https://app.example';
const evil = 'https://evil.example';

function setup(options: Partial<CsrfProtectionOptions> = {}) {
  const events: SessionEvent[] = [];
  const clock = createTestClock();
  const csrf = createCsrfProtection({
    keyRing: createKeyRing(testSecrets[0]),
    now: clock.now,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { csrf, events, clock };
}

interface RequestSpec {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
}

function request({ method = 'POST', path = '/account', headers = {}, body = null }: RequestSpec = {}): Request {
  return new Request(site + path, { method, headers, body, duplex: 'half' } as RequestInit);
}

/** A same-origin browser request: Origin and Sec-Fetch-Site as a browser sends them. */
const sameOrigin = { origin: site, 'sec-fetch-site': 'same-origin' };

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

function multipart(fields: Record<string, string>, file?: Uint8Array): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (file) data.append('upload', new Blob([file as Uint8Array<ArrayBuffer>]), 'upload.bin');
  return data;
}

describe('isSafeMethod', () => {
  it('only GET, HEAD and OPTIONS, in any case, are safe', () => {
    for (const method of ['GET', 'get', 'Head', 'options']) expect(isSafeMethod(method)).toBe(true);
    for (const method of ['POST', 'patch', 'PATCH', 'delete', 'put', 'PURGE', 'TRACE', 'CONNECT', 'propfind']) {
      expect(isSafeMethod(method)).toBe(false);
    }
  });
});

describe('createCsrfProtection: verifyRequest', () => {
  it('lets safe methods through without any check', async () => {
    const { csrf } = setup();
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const verdict = await csrf.verifyRequest(
        request({ method, headers: { origin: evil, 'sec-fetch-site': 'cross-site' } }),
        { sessionId: undefined },
      );
      expect(verdict).toEqual({ ok: true });
    }
  });

  it('accepts a same-origin form post with a valid token in the field (urlencoded and multipart)', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('sid-1');
    const urlencoded = request({ headers: sameOrigin, body: form({ name: 'x', csrf_token: token }) });
    expect(await csrf.verifyRequest(urlencoded, { sessionId: 'sid-1' })).toEqual({ ok: true });
    const multi = request({ headers: sameOrigin, body: multipart({ csrf_token: token, name: 'x' }) });
    expect(await csrf.verifyRequest(multi, { sessionId: 'sid-1' })).toEqual({ ok: true });
  });

  it('accepts a same-origin fetch with the token in the header, for any content type', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('sid-1');
    for (const method of ['POST', 'PUT', 'patch', 'DELETE']) {
      const json = request({
        method,
        headers: { ...sameOrigin, 'content-type': 'application/json', 'x-csrf-token': token },
        body: '{"a":1}',
      });
      expect(await csrf.verifyRequest(json, { sessionId: 'sid-1' })).toEqual({ ok: true });
    }
  });

  it('leaves the body readable by the app after verification', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('sid-1');
    const urlencoded = request({ headers: sameOrigin, body: form({ name: 'Ada', csrf_token: token }) });
    expect((await csrf.verifyRequest(urlencoded, { sessionId: 'sid-1' })).ok).toBe(true);
    expect((await urlencoded.formData()).get('name')).toBe('Ada');

    const file = new Uint8Array(200_000).fill(7);
    const multi = request({ headers: sameOrigin, body: multipart({ csrf_token: token, name: 'Grace' }, file) });
    expect((await csrf.verifyRequest(multi, { sessionId: 'sid-1' })).ok).toBe(true);
    const data = await multi.formData();
    expect(data.get('name')).toBe('Grace');
    expect((data.get('upload') as File).size).toBe(200_000);

    const json = request({
      headers: { ...sameOrigin, 'content-type': 'application/json', 'x-csrf-token': token },
      body: '{"a":1}',
    });
    expect((await csrf.verifyRequest(json, { sessionId: 'sid-1' })).ok).toBe(true);
    expect(await json.json()).toEqual({ a: 1 });
  });

  it('rejects a cross-site form post, even one carrying a valid token', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('sid-1');
    const byOrigin = request({ headers: { origin: evil }, body: form({ csrf_token: token }) });
    expect(await csrf.verifyRequest(byOrigin, { sessionId: 'sid-1' })).toEqual({
      ok: false,
      reason: 'origin',
      status: 403,
    });
    const bySite = request({ headers: { 'sec-fetch-site': 'cross-site' }, body: form({ csrf_token: token }) });
    expect(await csrf.verifyRequest(bySite, { sessionId: 'sid-1' })).toMatchObject({ ok: false, reason: 'fetch-site' });
    const both = request({
      headers: { origin: evil, 'sec-fetch-site': 'cross-site' },
      body: form({ csrf_token: token }),
    });
    expect(await csrf.verifyRequest(both, { sessionId: 'sid-1' })).toMatchObject({ ok: false, reason: 'fetch-site' });
    const nullOrigin = request({ headers: { origin: 'null' }, body: form({ csrf_token: token }) });
    expect(await csrf.verifyRequest(nullOrigin, { sessionId: 'sid-1' })).toMatchObject({ ok: false, reason: 'origin' });
  });

  it('rejects cross-origin JSON (which Astro checkOrigin lets through)', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('sid-1');
    const json = request({
      headers: { origin: evil, 'content-type': 'application/json', 'x-csrf-token': token },
      body: '{"amount":100}',
    });
    expect(await csrf.verifyRequest(json, { sessionId: 'sid-1' })).toMatchObject({ ok: false, reason: 'origin' });
    const sibling = request({
      headers: { 'sec-fetch-site': 'same-site', 'content-type': 'application/json', 'x-csrf-token': token },
      body: '{}',
    });
    expect(await csrf.verifyRequest(sibling, { sessionId: 'sid-1' })).toMatchObject({
      ok: false,
      reason: 'fetch-site',
    });
  });

  it('requires a token: missing, wrong, or another session\u2019s token is rejected', async () => {
    const { csrf } = setup();
    const json = (headers: Record<string, string>) =>
      request({ headers: { ...sameOrigin, 'content-type': 'application/json', ...headers }, body: '{}' });
    expect(await csrf.verifyRequest(json({}), { sessionId: 'sid-1' })).toMatchObject({
      ok: false,
      reason: 'missing-token',
      status: 403,
    });
    expect(await csrf.verifyRequest(json({ 'x-csrf-token': 'nope' }), { sessionId: 'sid-1' })).toMatchObject({
      reason: 'bad-token',
    });
    const other = await csrf.issueToken('sid-2');
    expect(await csrf.verifyRequest(json({ 'x-csrf-token': other }), { sessionId: 'sid-1' })).toMatchObject({
      reason: 'bad-token',
    });
    // JSON bodies are never searched for a token: the header is required.
    const inBody = request({
      headers: { ...sameOrigin, 'content-type': 'application/json' },
      body: JSON.stringify({ csrf_token: await csrf.issueToken('sid-1') }),
    });
    expect(await csrf.verifyRequest(inBody, { sessionId: 'sid-1' })).toMatchObject({ reason: 'missing-token' });
    // text/plain forms (a classic CSRF vector) cannot carry the token either.
    const textPlain = request({
      headers: { ...sameOrigin, 'content-type': 'text/plain' },
      body: `csrf_token=${await csrf.issueToken('sid-1')}`,
    });
    expect(await csrf.verifyRequest(textPlain, { sessionId: 'sid-1' })).toMatchObject({ reason: 'missing-token' });
    // A bad header token is not rescued by a good form field.
    const mixed = request({
      headers: { ...sameOrigin, 'x-csrf-token': other },
      body: form({ csrf_token: await csrf.issueToken('sid-1') }),
    });
    expect(await csrf.verifyRequest(mixed, { sessionId: 'sid-1' })).toMatchObject({ reason: 'bad-token' });
  });

  it('treats lowercase patch / delete and unknown methods as unsafe', async () => {
    const { csrf } = setup();
    for (const method of ['patch', 'delete', 'Put', 'purge']) {
      const verdict = await csrf.verifyRequest(request({ method, headers: { origin: evil } }), { sessionId: 'sid-1' });
      expect(verdict, method).toMatchObject({ ok: false, reason: 'origin' });
      const noToken = await csrf.verifyRequest(request({ method, headers: sameOrigin }), { sessionId: 'sid-1' });
      expect(noToken, method).toMatchObject({ ok: false, reason: 'missing-token' });
    }
  });

  it('rejects a token after logout (the session id changed)', async () => {
    const keyRing = createKeyRing(testSecrets[0]);
    const clock = createTestClock();
    const sessions = createSessionManager<{ userId?: string }>({ secrets: keyRing, now: clock.now });
    const csrf = createCsrfProtection({ keyRing, now: clock.now });
    const jar = new CookieJar();
    const signedIn = await sessions.load(null);
    signedIn.session.set('userId', 'u1');
    jar.apply(await sessions.commit(signedIn.session));
    const { session } = await sessions.load(jar.header());
    const token = await csrf.issueToken(session.id);
    const post = () => request({ headers: { ...sameOrigin, 'x-csrf-token': token } });
    expect(await csrf.verifyRequest(post(), { sessionId: session.id })).toEqual({ ok: true });

    // sign out: new id (regenerate) and a new anonymous session (destroy)
    session.regenerate();
    session.unset('userId');
    jar.apply(await sessions.commit(session));
    const after = await sessions.load(jar.header());
    expect(after.session.id).not.toBe(signedIn.session.id);
    expect(await csrf.verifyRequest(post(), { sessionId: after.session.id })).toMatchObject({ reason: 'bad-token' });
    const fresh = await sessions.load(null);
    expect(await csrf.verifyRequest(post(), { sessionId: fresh.session.id })).toMatchObject({ reason: 'bad-token' });
  });

  it('needs a session id for unsafe requests', async () => {
    const { csrf } = setup();
    for (const sessionId of [undefined, null, '']) {
      expect(await csrf.verifyRequest(request({ headers: sameOrigin }), { sessionId })).toMatchObject({
        ok: false,
        reason: 'no-session',
      });
    }
  });

  it('skips exempt paths entirely, but not path tricks around them', async () => {
    const { csrf } = setup({ exempt: ['/webhooks/**', '/api/ping'] });
    const crossSite = { origin: evil, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' };
    for (const path of ['/webhooks/stripe', '/webhooks', '/webhooks/a/b/', '/api/ping']) {
      const verdict = await csrf.verifyRequest(request({ path, headers: crossSite, body: '{}' }), {
        sessionId: undefined,
      });
      expect(verdict, path).toEqual({ ok: true });
    }
    for (const path of [
      '/webhooksx',
      '/api/ping/x',
      '/webhooks/..%2Faccount',
      '/webhooks%2Fx',
      '/webhooks/%252e%252e/x',
    ]) {
      const verdict = await csrf.verifyRequest(request({ path, headers: crossSite, body: '{}' }), {
        sessionId: 'sid-1',
      });
      expect(verdict.ok, path).toBe(false);
    }
    // The Astro layer matches routes, not raw paths:
    expect(
      await csrf.verifyRequest(request({ path: '/hooks/x', headers: crossSite }), {
        sessionId: undefined,
        path: '/webhooks/[provider]',
      }),
    ).toEqual({ ok: true });
  });

  it('accepts an exempt predicate', async () => {
    const { csrf } = setup({ exempt: (path) => path === '/hook' });
    expect(
      await csrf.verifyRequest(request({ path: '/hook', headers: { origin: evil } }), { sessionId: null }),
    ).toEqual({ ok: true });
    expect((await csrf.verifyRequest(request({ path: '/x', headers: { origin: evil } }), { sessionId: null })).ok).toBe(
      false,
    );
  });

  it('Sec-Fetch-Site: same-origin and none pass, same-site only when allowed', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('s');
    const withSite = (site: string) => request({ headers: { 'sec-fetch-site': site, 'x-csrf-token': token } });
    expect(await csrf.verifyRequest(withSite('same-origin'), { sessionId: 's' })).toEqual({ ok: true });
    expect(await csrf.verifyRequest(withSite('none'), { sessionId: 's' })).toEqual({ ok: true });
    expect(await csrf.verifyRequest(withSite('same-site'), { sessionId: 's' })).toMatchObject({ reason: 'fetch-site' });
    expect(await csrf.verifyRequest(withSite('weird'), { sessionId: 's' })).toMatchObject({ reason: 'fetch-site' });
    const lenient = setup({ allowSameSite: true }).csrf;
    const lenientToken = await lenient.issueToken('s');
    const sibling = request({ headers: { 'sec-fetch-site': 'same-site', 'x-csrf-token': lenientToken } });
    expect(await lenient.verifyRequest(sibling, { sessionId: 's' })).toEqual({ ok: true });
  });

  it('trusted origins may post cross-site (with a token)', async () => {
    const admin = 'https://admin.example';
    const { csrf } = setup({ trustedOrigins: [admin] });
    const token = await csrf.issueToken('s');
    const verdict = await csrf.verifyRequest(
      request({ headers: { origin: admin, 'sec-fetch-site': 'cross-site', 'x-csrf-token': token } }),
      { sessionId: 's' },
    );
    expect(verdict).toEqual({ ok: true });
    const noToken = await csrf.verifyRequest(request({ headers: { origin: admin, 'sec-fetch-site': 'cross-site' } }), {
      sessionId: 's',
    });
    expect(noToken).toMatchObject({ reason: 'missing-token' });
  });

  it('without Origin and Sec-Fetch-Site, checks Referer when present, else relies on the token', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('s');
    const withHeaders = (headers: Record<string, string>) =>
      csrf.verifyRequest(request({ headers: { 'x-csrf-token': token, ...headers } }), { sessionId: 's' });
    expect(await withHeaders({ referer: `${evil}/page` })).toMatchObject({ reason: 'origin' });
    expect(await withHeaders({ referer: 'not a url' })).toMatchObject({ reason: 'origin' });
    expect(await withHeaders({ referer: `${site}/form` })).toEqual({ ok: true });
    expect(await withHeaders({})).toEqual({ ok: true }); // curl / server-to-server: the token decides
    expect(
      await csrf.verifyRequest(request({ headers: { referer: `${site}/form` } }), { sessionId: 's' }),
    ).toMatchObject({ reason: 'missing-token' });
  });

  it('uses the public origin given by the app behind a TLS proxy (browsers without Sec-Fetch-Site)', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('s');
    const proxied = new Request('http://app.example/account', {
      method: 'POST',
      headers: { origin: site, 'x-csrf-token': token },
    });
    expect(await csrf.verifyRequest(proxied, { sessionId: 's' })).toMatchObject({ reason: 'origin' });
    expect(await csrf.verifyRequest(proxied, { sessionId: 's', origin: site })).toEqual({ ok: true });
  });

  it('lets Sec-Fetch-Site decide when the browser sends it, whatever the server takes its own origin to be', async () => {
    const { csrf } = setup();
    const token = await csrf.issueToken('s');
    // Astro 7.4+ builds request.url from localhost:PORT unless the Host is in security.allowedDomains,
    // while the browser addressed http://myapp.test:PORT.
    const post = (headers: Record<string, string>) =>
      csrf.verifyRequest(
        new Request('http://localhost:4321/login', { method: 'POST', headers: { 'x-csrf-token': token, ...headers } }),
        { sessionId: 's' },
      );
    const browser = 'http://myapp.test:4321';
    expect(await post({ origin: browser, 'sec-fetch-site': 'same-origin' })).toEqual({ ok: true });
    // A same-origin post from a page with Referrer-Policy: no-referrer carries Origin: null.
    expect(await post({ origin: 'null', 'sec-fetch-site': 'same-origin' })).toEqual({ ok: true });
    // Cross-site stays refused even when Origin equals the URL the server believes in.
    expect(await post({ origin: 'http://localhost:4321', 'sec-fetch-site': 'cross-site' })).toMatchObject({
      reason: 'fetch-site',
    });
    expect(await post({ origin: 'http://localhost:4321', 'sec-fetch-site': 'same-site' })).toMatchObject({
      reason: 'fetch-site',
    });
    expect(await post({ origin: browser, 'sec-fetch-site': 'CROSS-SITE ' })).toMatchObject({ reason: 'fetch-site' });
    expect(await post({ origin: browser, 'sec-fetch-site': 'bogus' })).toMatchObject({ reason: 'fetch-site' });
    // Without Sec-Fetch-Site, Origin must match what the server trusts as its own origin.
    expect(await post({ origin: browser })).toMatchObject({ reason: 'origin' });
    expect(await post({ origin: 'http://localhost:4321' })).toEqual({ ok: true });
  });

  it('property: a cross-site Sec-Fetch-Site or a foreign Origin without it never passes, for any URL', async () => {
    const { csrf } = setup({ trustedOrigins: ['https://admin.example'] });
    const token = await csrf.issueToken('s');
    const origins = fc.constantFrom(site, evil, 'null', 'http://localhost:4321', 'https://admin.example.evil');
    const urls = fc.constantFrom(`${site}/x`, 'http://localhost:4321/x', `${evil}/x`);
    await fc.assert(
      fc.asyncProperty(origins, urls, fc.boolean(), async (origin, url, withFetchSite) => {
        const headers: Record<string, string> = { origin, 'x-csrf-token': token };
        if (withFetchSite) headers['sec-fetch-site'] = 'cross-site';
        const verdict = await csrf.verifyRequest(new Request(url, { method: 'POST', headers }), { sessionId: 's' });
        const ownOrigin = new URL(url).origin;
        if (withFetchSite || origin !== ownOrigin) expect(verdict.ok).toBe(false);
        else expect(verdict).toEqual({ ok: true });
      }),
    );
  });

  it('answers oversized form bodies with 413 instead of reading them', async () => {
    const { csrf } = setup({ maxFormBytes: 1024, maxMultipartBytes: 4096 });
    const token = await csrf.issueToken('s');
    const big = form({ csrf_token: token, filler: 'x'.repeat(5000) });
    expect(await csrf.verifyRequest(request({ headers: sameOrigin, body: big }), { sessionId: 's' })).toEqual({
      ok: false,
      reason: 'body-too-large',
      status: 413,
    });
    // A declared length over the limit is refused before reading anything.
    const declared = request({
      headers: {
        ...sameOrigin,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(10 * 1024 * 1024 * 1024),
      },
      body: `csrf_token=${token}`,
    });
    expect(await csrf.verifyRequest(declared, { sessionId: 's' })).toMatchObject({ reason: 'body-too-large' });
    // A streamed body without Content-Length is cut off at the limit.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode('a=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&'.repeat(10)));
      },
    });
    const streamed = request({
      headers: { ...sameOrigin, 'content-type': 'multipart/form-data; boundary=x' },
      body: endless,
    });
    expect(await csrf.verifyRequest(streamed, { sessionId: 's' })).toMatchObject({ reason: 'body-too-large' });
    expect(pulled).toBeLessThan(100);
    const bigUpload = multipart({ csrf_token: token }, new Uint8Array(10_000));
    expect(
      await csrf.verifyRequest(request({ headers: sameOrigin, body: bigUpload }), { sessionId: 's' }),
    ).toMatchObject({ status: 413 });
    // The header path never reads the body, whatever its size.
    const headerToken = request({ headers: { ...sameOrigin, 'x-csrf-token': token }, body: big });
    expect(await csrf.verifyRequest(headerToken, { sessionId: 's' })).toEqual({ ok: true });
  });

  it('treats malformed or already-consumed form bodies as a missing token', async () => {
    const { csrf } = setup();
    const broken = request({
      headers: { ...sameOrigin, 'content-type': 'multipart/form-data; boundary=nope' },
      body: 'this is not multipart',
    });
    expect(await csrf.verifyRequest(broken, { sessionId: 's' })).toMatchObject({ reason: 'missing-token' });
    const consumed = request({ headers: sameOrigin, body: form({ csrf_token: await csrf.issueToken('s') }) });
    await consumed.text();
    expect(await csrf.verifyRequest(consumed, { sessionId: 's' })).toMatchObject({ reason: 'missing-token' });
  });

  it('reports failures as events without the token', async () => {
    const { csrf, events } = setup();
    const token = await csrf.issueToken('s');
    await csrf.verifyRequest(request({ path: '/transfer', headers: { origin: evil, 'x-csrf-token': token } }), {
      sessionId: 's',
    });
    await csrf.verifyRequest(request({ method: 'patch', path: '/transfer', headers: { 'x-csrf-token': token } }), {
      sessionId: 'other',
    });
    expect(events).toEqual([
      { type: 'csrf.failed', reason: 'origin', method: 'POST', path: '/transfer', sessionId: 's' },
      { type: 'csrf.failed', reason: 'bad-token', method: 'patch', path: '/transfer', sessionId: 'other' },
    ]);
    expect(JSON.stringify(events)).not.toContain(token.slice(3));
  });

  it('checks only the origin headers when requireToken is false (sessions managed elsewhere)', async () => {
    const { csrf } = setup();
    const noToken = request({ headers: sameOrigin, body: form({}) });
    expect(await csrf.verifyRequest(noToken, { sessionId: undefined, requireToken: false })).toEqual({ ok: true });
    const crossSite = request({ headers: { origin: evil, 'content-type': 'application/json' }, body: '{}' });
    expect(await csrf.verifyRequest(crossSite, { sessionId: undefined, requireToken: false })).toMatchObject({
      ok: false,
      reason: 'origin',
    });
  });

  it('issues tokens synchronously on node:crypto, and says so by returning undefined on WebCrypto', async () => {
    const { csrf } = setup();
    const immediate = immediateTokenIssuerOf(csrf);
    expect(immediate.synchronous).toBe(true);
    const token = immediate.issueNow('s');
    expect(token).toBeDefined();
    expect(await csrf.verifyToken(token, 's')).toMatchObject({ ok: true });
    expect(await csrf.verifyToken(token, 't')).toMatchObject({ ok: false });
    const web = createCsrfProtection({
      keyRing: createKeyRing(testSecrets[0], { forceWebCrypto: true }),
      cryptoEngine: 'webcrypto',
    });
    expect(immediateTokenIssuerOf(web).synchronous).toBe(false);
    expect(immediateTokenIssuerOf(web).issueNow('s')).toBeUndefined();
  });

  it('works the same on the WebCrypto engine', async () => {
    const keyRing = createKeyRing(testSecrets[0], { forceWebCrypto: true });
    const csrf = createCsrfProtection({ keyRing, cryptoEngine: 'webcrypto' });
    const token = await csrf.issueToken('s');
    const ok = request({ headers: sameOrigin, body: form({ csrf_token: token }) });
    expect(await csrf.verifyRequest(ok, { sessionId: 's' })).toEqual({ ok: true });
    const other = request({ headers: sameOrigin, body: form({ csrf_token: token }) });
    expect(await csrf.verifyRequest(other, { sessionId: 't' })).toMatchObject({ reason: 'bad-token' });
  });

  it('property: arbitrary headers and bodies never throw, and never pass without a valid token', async () => {
    const { csrf } = setup({ exempt: ['/webhooks/**'] });
    const token = await csrf.issueToken('s');
    const headerValue = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(site, evil, 'null', 'same-origin', 'cross-site', 'none', 'same-site', token),
      fc.constantFrom(
        'application/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=b',
        'MULTIPART/FORM-DATA',
        'text/plain',
      ),
    );
    const headerName = fc.constantFrom(
      'origin',
      'sec-fetch-site',
      'referer',
      'content-type',
      'content-length',
      'x-csrf-token',
      'x-other',
    );
    const body = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.constant(`csrf_token=${token}`),
      fc.constant(`--b\r\ncontent-disposition: form-data; name="csrf_token"\r\n\r\n${token}\r\n--b--\r\n`),
    );
    const method = fc.constantFrom('POST', 'PUT', 'patch', 'DELETE', 'GET', 'purge');
    const path = fc.constantFrom('/account', '/webhooks/x', '/webhooks/..%2Fx', '/%ZZ', '/a//b');
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
        body,
        fc.constantFrom('s', 'other', undefined),
        async (m, p, headerList, b, sessionId) => {
          const headers = new Headers();
          for (const [name, value] of headerList) {
            try {
              headers.append(name, value);
            } catch {
              // invalid header values are rejected by Headers itself, as by any server
            }
          }
          const hasBody = b !== null && !['GET', 'HEAD'].includes(m.toUpperCase());
          const req = new Request(site + p, {
            method: m,
            headers,
            body: hasBody ? (b as BodyInit) : null,
          });
          const verdict = await csrf.verifyRequest(req, { sessionId });
          if (verdict.ok && !isSafeMethod(m) && !p.startsWith('/webhooks/x')) {
            // Passing requires the real token for the real session.
            expect(sessionId).toBe('s');
            const carried = headers.get('x-csrf-token') === token || (typeof b === 'string' && b.includes(token));
            expect(carried).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('createCsrfProtection: options', () => {
  const keyRing = createKeyRing(testSecrets[0]);

  it('rejects unknown options with a hint', () => {
    expect(() => createCsrfProtection({ keyRing, headername: 'x' } as never)).toThrow(/Did you mean "headerName"/);
    expect(() => createCsrfProtection(undefined as never)).toThrow(/keyRing/);
    expect(() => createCsrfProtection({ keyRing: 'secret' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('validates origins, names, limits and exemptions', () => {
    const bad: Partial<CsrfProtectionOptions>[] = [
      { trustedOrigins: ['https://x.example/'] },
      { trustedOrigins: ['*'] },
      { trustedOrigins: ['null'] },
      { trustedOrigins: 'https://x.example' as never },
      { headerName: 'x csrf' },
      { fieldName: '' },
      { maxAgeSeconds: 0 },
      { maxFormBytes: -1 },
      { exempt: ['webhooks'] },
      { exempt: ['/webhooks/*'] },
      { exempt: ['/**'] },
      { exempt: ['/a/../b'] },
      { exempt: '/webhooks/**' as never },
      { allowSameSite: 'yes' as never },
      { cryptoEngine: 'fast' as never },
      { now: 5 as never },
    ];
    for (const options of bad) {
      expect(() => createCsrfProtection({ keyRing, ...options }), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      );
    }
  });

  it('exposes helpers bound to the configured names', async () => {
    const csrf = createCsrfProtection({ keyRing, headerName: 'X-XSRF', fieldName: '_csrf' });
    const token = await csrf.issueToken('s');
    expect(csrf.headerName).toBe('x-xsrf');
    expect(csrf.headers(token)).toEqual({ 'x-xsrf': token });
    expect(csrf.field(token)).toBe(`<input type="hidden" name="_csrf" value="${token}">`);
    expect(csrf.meta(token)).toContain(token);
    expect(csrf.fetchScript).toContain('"x-xsrf"');
    const ok = request({ headers: { ...sameOrigin, 'X-XSRF': token } });
    expect(await csrf.verifyRequest(ok, { sessionId: 's' })).toEqual({ ok: true });
    const field = request({ headers: sameOrigin, body: form({ _csrf: token }) });
    expect(await csrf.verifyRequest(field, { sessionId: 's' })).toEqual({ ok: true });
  });
});

describe('csrfFailureResponse', () => {
  it('answers 403 / 413 with the reason and no-store', async () => {
    const forbidden = csrfFailureResponse({ ok: false, reason: 'origin', status: 403 });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('cache-control')).toBe('no-store');
    expect(await forbidden.json()).toMatchObject({ error: { code: 'ERR_CSRF', reason: 'origin' } });
    expect(csrfFailureResponse({ ok: false, reason: 'body-too-large', status: 413 }).status).toBe(413);
  });
});

describe('createCsrfProtection: hostile calls', () => {
  it('fails closed instead of throwing when called with garbage', async () => {
    const { csrf } = setup();
    expect(await csrf.verifyRequest(undefined as never, { sessionId: 's' })).toMatchObject({ ok: false, status: 403 });
    expect(await csrf.verifyRequest({ method: 'POST', url: 'nope' } as never, { sessionId: 's' })).toMatchObject({
      ok: false,
    });
    expect(await csrf.verifyRequest(request({ headers: sameOrigin }), undefined as never)).toMatchObject({
      ok: false,
      reason: 'no-session',
    });
  });
});
