import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGuard } from './index.ts';
import { decideImmediately, requestKindOf } from './internal.ts';
import { classifyRequest, type RequestFacts, type RequestKind } from './request-kind.ts';

const BROWSER_NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('classifyRequest', () => {
  it.each<[RequestFacts, boolean, RequestKind]>([
    // Browsers loading pages.
    [{ method: 'GET', accept: BROWSER_NAVIGATION }, false, 'page'],
    [{ method: 'HEAD', accept: null }, false, 'page'],
    [{ method: 'GET', accept: '*/*' }, false, 'page'],
    [{ method: 'GET' }, false, 'page'],
    // Browsers submitting forms: HTML ranked above JSON, on any path.
    [{ method: 'POST', accept: BROWSER_NAVIGATION, contentType: 'application/x-www-form-urlencoded' }, false, 'form'],
    [{ method: 'POST', accept: BROWSER_NAVIGATION, contentType: 'multipart/form-data; boundary=x' }, true, 'form'],
    [{ method: 'DELETE', accept: 'application/xhtml+xml' }, false, 'form'],
    // Programs.
    [{ method: 'GET', accept: 'application/json' }, false, 'api'],
    [{ method: 'GET', accept: BROWSER_NAVIGATION }, true, 'api'],
    [{ method: 'GET', contentType: 'application/merge-patch+json' }, false, 'api'],
    [{ method: 'POST', accept: '*/*', contentType: 'application/x-www-form-urlencoded' }, false, 'api'],
    [{ method: 'POST', accept: null }, false, 'api'],
    [{ method: 'PUT', accept: 'text/html', contentType: 'application/json' }, false, 'api'],
    [{ method: 'POST', accept: 'application/json, text/html' }, false, 'api'],
    [{ method: 'POST', accept: 'text/html;q=0' }, false, 'api'],
    [{ method: 'PATCH', accept: 'text/html;q=0.1, application/problem+json' }, false, 'api'],
  ])('%j (under an API prefix: %s) is %s', (facts, underApiPrefix, kind) => {
    expect(classifyRequest(facts, underApiPrefix)).toBe(kind);
  });

  it('reads at most 1024 characters of Accept and never throws on junk', () => {
    expect(
      classifyRequest({ method: 'GET', accept: `${'application/xml, '.repeat(200)}application/json` }, false),
    ).toBe('page');
    fc.assert(
      fc.property(
        fc.string({ maxLength: 64 }),
        fc.string({ maxLength: 64 }),
        fc.string({ maxLength: 8 }),
        (a, c, m) => {
          expect(['page', 'form', 'api']).toContain(classifyRequest({ method: m, accept: a, contentType: c }, false));
        },
      ),
    );
  });
});

describe('one classifier for every answer', () => {
  const guard = createGuard({
    apiPrefixes: ['/api/', '/rpc'],
    rules: [
      { pattern: '/**', authenticated: true },
      { pattern: '/login', public: true },
      { pattern: '/admin/**', role: 'admin', redirectTo: '/denied' },
      { pattern: '/denied', public: true },
    ],
  });
  const facts = fc.record({
    path: fc.constantFrom('/account', '/admin/x', '/api/x', '/API/x', '/rpc', '/rpc/a', '/%zz', '/app/../x'),
    method: fc.constantFrom('GET', 'get', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
    accept: fc.option(
      fc.constantFrom(BROWSER_NAVIGATION, '*/*', 'application/json', 'text/html;q=0.5, application/json', 'text/html'),
      { nil: null },
    ),
    contentType: fc.option(fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'), {
      nil: null,
    }),
  });

  it('guard.classify() is the request kind with forms answered like programs', () => {
    fc.assert(
      fc.property(facts, (input) => {
        const kind = requestKindOf(guard, input);
        expect(guard.classify(input)).toBe(kind === 'page' ? 'page' : 'api');
      }),
      { numRuns: 500 },
    );
  });

  it('decide() redirects exactly the requests the classifier calls page visits', () => {
    fc.assert(
      fc.property(facts, fc.constantFrom(null, { userId: 'u', role: 'user' }), (input, session) => {
        const decision = decideImmediately(guard, { ...input, session });
        if (decision instanceof Promise) throw new Error('no hook here is asynchronous');
        if (decision.action === 'allow' || decision.status === 400) return;
        expect(decision.action === 'redirect').toBe(requestKindOf(guard, input) === 'page');
      }),
      { numRuns: 500 },
    );
  });

  it('uses the guard base and case folding for API prefixes', () => {
    const based = createGuard({ base: '/app', rules: [] });
    expect(requestKindOf(based, { path: '/app/API/users', method: 'GET', accept: 'text/html' })).toBe('api');
    expect(requestKindOf(based, { path: '/api/users', method: 'GET', accept: 'text/html' })).toBe('page');
    expect(requestKindOf(based, { path: '/app/api/users', method: 'POST', accept: 'text/html' })).toBe('form');
  });
});
