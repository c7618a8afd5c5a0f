import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { isSessionKitError } from '../core/errors.ts';
import {
  createGuard,
  type DecideInput,
  type Guard,
  type GuardDecision,
  type GuardOptions,
  type GuardRule,
  type GuardSession,
  requestInput,
} from './index.ts';
import { decideImmediately } from './internal.ts';
import { patternMatchesSlow } from './matcher.ts';
import { type ParsedPattern, parsePattern } from './rules.ts';

function expectConfigError(run: () => unknown, text?: string, hint?: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(isSessionKitError(thrown, 'ERR_CONFIG_INVALID'), `expected ERR_CONFIG_INVALID, got ${String(thrown)}`).toBe(
    true,
  );
  if (text !== undefined) expect((thrown as Error).message).toContain(text);
  if (hint !== undefined) expect((thrown as { hint?: string }).hint).toContain(hint);
}

/** A thenable whose `then` throws. */
function hostileThenable(): never {
  const value: Record<string, unknown> = {};
  Object.defineProperty(value, 'then', {
    value: () => {
      throw new TypeError('hostile then');
    },
  });
  return value as never;
}

/** An object whose `then` getter throws. */
function hostileGetter(): never {
  const value: Record<string, unknown> = {};
  Object.defineProperty(value, 'then', {
    get() {
      throw new RangeError('hostile getter');
    },
  });
  return value as never;
}

/** Decides synchronously (fails the test if the guard's immediate entry returned a promise). */
function decideSync<S extends object, C>(
  guard: ReturnType<typeof createGuard<S, C>>,
  input: DecideInput<S, C>,
): GuardDecision<S, C> {
  const decision = decideImmediately(guard, input);
  expect(decision).not.toBeInstanceOf(Promise);
  return decision as GuardDecision<S, C>;
}

const admin = { userId: 'u_admin', role: 'admin', permissions: ['billing:read'] };
const user = { userId: 'u_user', role: 'user', permissions: [] as string[] };

describe('createGuard: configuration errors', () => {
  const allow = () => true;

  it('rejects unknown options with a did-you-mean hint', () => {
    expectConfigError(() => createGuard({ rule: [] } as never), 'unknown option "rule"', '"rules"');
    expectConfigError(() => createGuard({ rules: [], loginpath: '/login' } as never), undefined, '"loginPath"');
    expectConfigError(() => createGuard(undefined as never), 'options are required');
    expectConfigError(() => createGuard({ rules: 'x' } as never), 'rules must be an array');
  });

  it('rejects unknown rule keys with a did-you-mean hint', () => {
    expectConfigError(
      () => createGuard({ rules: [{ pattern: '/a', permision: 'x' }] } as never),
      'rules[0]: unknown option "permision"',
      '"permission"',
    );
    expectConfigError(() => createGuard({ rules: [{ pattern: '/a', rol: 'x' }] } as never), undefined, '"role"');
    expectConfigError(() => createGuard({ rules: [{ pattern: '/a', redirect: '/x', role: 'x' }] } as never));
    expectConfigError(() => createGuard({ rules: [null] } as never), 'rules[0]');
    expectConfigError(() => createGuard({ rules: [undefined] } as never), 'rules[0]');
  });

  it('rejects rules that require nothing', () => {
    expectConfigError(
      () => createGuard({ rules: [{ pattern: '/a' }] } as never),
      'requires nothing',
      'authenticated: true',
    );
    expectConfigError(() => createGuard({ rules: [{ pattern: '/a', role: undefined }] } as never), 'requires nothing');
  });

  it.each([
    [{ pattern: '/a', public: false }, 'public must be true'],
    [{ pattern: '/a', public: true, role: 'x' }, 'cannot also have role'],
    [{ pattern: '/a', public: true, redirectTo: '/x' }, 'cannot also have redirectTo'],
    [{ pattern: '/a', role: '' }, 'role must be a non-empty string'],
    [{ pattern: '/a', role: ['x'] }, 'role must be a non-empty string'],
    [{ pattern: '/a', roles: [] }, 'roles must be a non-empty array'],
    [{ pattern: '/a', roles: 'admin' }, 'roles must be a non-empty array'],
    [{ pattern: '/a', roles: ['x', 1] }, 'every entry of roles'],
    [{ pattern: '/a', roles: Array.from({ length: 1001 }, () => 'x') }, 'at most 1000'],
    [{ pattern: '/a', permission: 1 }, 'permission must be'],
    [{ pattern: '/a', permissions: [''] }, 'every entry of permissions'],
    [{ pattern: '/a', allow: true }, 'allow must be a function'],
    [{ pattern: '/a', role: 'x', methods: [] }, 'methods must be a non-empty array'],
    [{ pattern: '/a', role: 'x', methods: 'GET' }, 'methods must be a non-empty array'],
    [{ pattern: '/a', role: 'x', methods: ['GE T'] }, 'is not an HTTP method'],
    [{ pattern: '/a', role: 'x', redirectTo: '//evil.example' }, 'not a canonical same-origin path'],
    [{ pattern: '/a', role: 'x', redirectTo: 'https://evil.example/' }, 'not a canonical same-origin path'],
    [{ pattern: '/a', role: 'x', redirectTo: 'denied' }, 'not a canonical same-origin path'],
    [{ pattern: '/a', role: 'x', redirectTo: '/x/../denied' }, 'not a canonical same-origin path'],
    [{ pattern: '/a/', role: 'x' }, 'empty segment'],
    [{ pattern: '/a/**/b', role: 'x' }, 'only allowed as the last segment'],
    [{ pattern: '^/admin', role: 'x' }, 'must start with "/"'],
  ])('rejects %j', (rule, text) => {
    expectConfigError(() => createGuard({ rules: [rule] } as never), text);
  });

  it('rejects bad access hooks, onError, apiPrefixes, returnToParam', () => {
    expectConfigError(
      () => createGuard({ rules: [], access: { getRoles: () => 'x' } } as never),
      'unknown option "getRoles"',
      '"getRole"',
    );
    expectConfigError(() => createGuard({ rules: [], access: { check: true } } as never), 'access.check');
    expectConfigError(() => createGuard({ rules: [], onError: 'log' } as never), 'onError');
    expectConfigError(() => createGuard({ rules: [], apiPrefixes: 'api' } as never), 'apiPrefixes');
    expectConfigError(() => createGuard({ rules: [], apiPrefixes: ['api/'] } as never), 'apiPrefixes[0]');
    expectConfigError(() => createGuard({ rules: [], returnToParam: '' } as never), 'returnToParam');
    expectConfigError(() => createGuard({ rules: [], base: 'docs' } as never), 'base');
  });

  it('requires the login page to be reachable', () => {
    expectConfigError(
      () => createGuard({ rules: [{ pattern: '/**', allow }] }),
      '"/login" is protected for GET by rules[0] ("/**")',
      "{ pattern: '/login', public: true }",
    );
    expectConfigError(() => createGuard({ loginPath: '/auth/login', rules: [{ pattern: '/auth/*', allow }] }));
    expectConfigError(
      () => createGuard({ rules: [{ pattern: '/login', methods: ['POST'], role: 'x' }] }),
      'protected for POST',
    );
    expectConfigError(() => createGuard({ loginPath: '/Login', rules: [{ pattern: '/login', role: 'x' }] }));
    expectConfigError(() => createGuard({ loginPath: 'login', rules: [] }), 'loginPath');
    expectConfigError(() => createGuard({ loginPath: '//login', rules: [] }), 'loginPath');
    expect(() =>
      createGuard({
        rules: [
          { pattern: '/**', allow },
          { pattern: '/login', public: true },
        ],
      }),
    ).not.toThrow();
    expect(() =>
      createGuard({ loginPath: '/login?from=guard', rules: [{ pattern: '/login/*', allow }] }),
    ).not.toThrow();
    expect(() => createGuard({ rules: [{ pattern: '/login', methods: ['DELETE'], role: 'x' }] })).not.toThrow();
  });

  it('requires every redirectTo to be reachable', () => {
    expectConfigError(
      () => createGuard({ rules: [{ pattern: '/admin/**', role: 'admin', redirectTo: '/admin/denied' }] }),
      'rules[0].redirectTo',
    );
  });

  it('rejects a public rule that contradicts a protecting rule with the same paths and methods', () => {
    expectConfigError(
      () =>
        createGuard({
          rules: [
            { pattern: '/admin/**', role: 'x' },
            { pattern: '/Admin/[...rest]', public: true },
          ],
        }),
      'is public but rules[0] protects the same paths and methods',
    );
    // '/admin/[id]' (exactly one segment) is narrower than '/admin/*' (one or more): a valid exception.
    expect(() =>
      createGuard({
        rules: [
          { pattern: '/admin/*', role: 'x' },
          { pattern: '/admin/[id]', public: true },
        ],
      }),
    ).not.toThrow();
    expectConfigError(() =>
      createGuard({
        rules: [
          { pattern: '/x', role: 'x', methods: ['get', 'POST'] },
          { pattern: '/x', public: true, methods: ['POST', 'GET'] },
        ],
      }),
    );
    expect(() =>
      createGuard({
        rules: [
          { pattern: '/x', role: 'x' },
          { pattern: '/x', public: true, methods: ['POST'] },
        ],
      }),
    ).not.toThrow();
  });

  it('freezes the rules it keeps', () => {
    const rules: GuardRule[] = [{ pattern: '/admin/**', roles: ['admin'] }];
    const guard = createGuard({ rules });
    expect(Object.isFrozen(guard.rules[0])).toBe(true);
    expect(guard.rules[0]).not.toBe(rules[0]);
    expect(guard.rules[0]).toEqual(rules[0]);
  });
});

describe('decide: outcomes', () => {
  const guard = createGuard({
    rules: [
      { pattern: '/admin/**', role: 'admin' },
      { pattern: '/reports/**', role: 'admin', redirectTo: '/unauthorized' },
      { pattern: '/api/admin/**', role: 'admin' },
    ],
  });

  it('allows unprotected paths without allocating a decision', () => {
    const first = decideSync(guard, { session: null, path: '/about' });
    expect(first).toEqual({ action: 'allow', rule: undefined });
    expect(decideSync(guard, { session: null, path: '/' })).toBe(first);
  });

  it('redirects page requests without a session to the login page with returnTo (303)', () => {
    expect(decideSync(guard, { session: null, path: '/admin/users', search: '?page=2' })).toEqual({
      action: 'redirect',
      status: 303,
      location: '/login?returnTo=%2Fadmin%2Fusers%3Fpage%3D2',
      reason: 'unauthenticated',
      rule: { pattern: '/admin/**', role: 'admin' },
    });
    expect(decideSync(guard, { session: null, path: '/admin', method: 'HEAD' })).toMatchObject({
      action: 'redirect',
      location: '/login?returnTo=%2Fadmin',
    });
  });

  it('leaves out a returnTo that is not a safe location', () => {
    expect(decideSync(guard, { session: null, path: '//admin' })).toMatchObject({
      action: 'redirect',
      location: '/login',
    });
    expect(decideSync(guard, { session: null, path: '/admin', search: 'not-a-query' })).toMatchObject({
      location: '/login?returnTo=%2Fadmin',
    });
  });

  it('treats sessions without a non-empty string userId as signed out', () => {
    for (const session of [{ role: 'admin' }, { userId: '', role: 'admin' }, { userId: 1, role: 'admin' }, 'admin']) {
      expect(decideSync(guard, { session: session as GuardSession, path: '/admin' })).toMatchObject({
        reason: 'unauthenticated',
      });
    }
  });

  it('allows a session that passes, naming the rule', () => {
    expect(decideSync(guard, { session: admin, path: '/admin/users' })).toEqual({
      action: 'allow',
      rule: { pattern: '/admin/**', role: 'admin' },
    });
  });

  it('answers 403 to a signed-in session that fails, or redirects to the rule redirectTo', () => {
    expect(decideSync(guard, { session: user, path: '/admin' })).toEqual({
      action: 'deny',
      status: 403,
      reason: 'forbidden',
      body: { error: { code: 'ERR_FORBIDDEN', message: 'Access denied.' } },
      rule: { pattern: '/admin/**', role: 'admin' },
    });
    expect(decideSync(guard, { session: user, path: '/reports/q1' })).toMatchObject({
      action: 'redirect',
      status: 303,
      location: '/unauthorized',
      reason: 'forbidden',
    });
    expect(decideSync(guard, { session: null, path: '/reports/q1' })).toMatchObject({
      location: '/login?returnTo=%2Freports%2Fq1',
      reason: 'unauthenticated',
    });
  });

  it('answers API requests with JSON 401/403 and never redirects', () => {
    const api = [
      { path: '/admin', accept: 'application/json' },
      { path: '/admin', accept: 'application/vnd.api+json, text/html;q=0.5' },
      { path: '/admin', contentType: 'application/json; charset=utf-8' },
      { path: '/admin', contentType: 'application/merge-patch+json' },
      { path: '/api/admin/users' },
      { path: '/API/admin/users' },
      { path: '/admin', method: 'POST', contentType: 'application/x-www-form-urlencoded' },
      { path: '/admin', method: 'delete' },
      { path: '/reports/q1', method: 'PUT' },
    ];
    for (const input of api) {
      expect(decideSync(guard, { session: null, ...input })).toEqual({
        action: 'deny',
        status: 401,
        reason: 'unauthenticated',
        body: { error: { code: 'ERR_UNAUTHENTICATED', message: 'Sign-in required.' } },
        rule: expect.anything(),
      });
      expect(decideSync(guard, { session: user, ...input })).toMatchObject({ action: 'deny', status: 403 });
    }
  });

  it('ranks Accept entries: JSON must beat HTML', () => {
    const pages = [
      'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
      '*/*',
      'application/json;q=0.5, text/html',
      'application/json;q=0',
      'application/json;q=abc',
      'text/plain',
      '',
      ',,,;;;q=,',
      `${'application/xml, '.repeat(200)}application/json`,
    ];
    for (const accept of pages) {
      expect(decideSync(guard, { session: null, path: '/admin', accept })).toMatchObject({ action: 'redirect' });
    }
    for (const accept of ['application/json', 'text/html;q=0.1, application/problem+json', 'APPLICATION/JSON']) {
      expect(decideSync(guard, { session: null, path: '/admin', accept })).toMatchObject({ status: 401 });
    }
  });

  it('uses the configured API prefixes, base, login path and returnTo parameter', () => {
    const custom = createGuard({
      base: '/app/',
      loginPath: '/auth/sign-in',
      returnToParam: 'next',
      apiPrefixes: ['/rpc'],
      rules: [{ pattern: '/admin/**', role: 'admin' }],
    });
    expect(custom.loginLocation).toBe('/app/auth/sign-in');
    expect(decideSync(custom, { session: null, path: '/app/admin', search: '?x=1' })).toMatchObject({
      location: '/app/auth/sign-in?next=%2Fapp%2Fadmin%3Fx%3D1',
    });
    expect(decideSync(custom, { session: null, path: '/app/api/x' })).toEqual({ action: 'allow', rule: undefined });
    expect(decideSync(custom, { session: null, path: '/app/rpc/admin' })).toEqual({
      action: 'allow',
      rule: undefined,
    });
    const rpc = createGuard({ apiPrefixes: ['/rpc'], rules: [{ pattern: '/rpc/**', allow: () => true }] });
    expect(decideSync(rpc, { session: null, path: '/rpc/x' })).toMatchObject({ status: 401 });
    expect(decideSync(custom, { session: null, path: '/admin' })).toMatchObject({
      action: 'deny',
      status: 400,
      reason: 'bad-path',
    });
  });

  it('is case-sensitive only when configured', () => {
    const sensitive = createGuard({ caseSensitive: true, rules: [{ pattern: '/Admin/**', role: 'admin' }] });
    expect(decideSync(sensitive, { session: null, path: '/Admin' }).action).toBe('redirect');
    expect(decideSync(sensitive, { session: null, path: '/admin' }).action).toBe('allow');
    const insensitive = createGuard({ rules: [{ pattern: '/Admin/**', role: 'admin' }] });
    expect(decideSync(insensitive, { session: null, path: '/aDMIN' }).action).toBe('redirect');
  });

  it('denies input that is not an object, or a path that is not a string, with 400', () => {
    expect(decideSync(guard, null as never)).toMatchObject({ action: 'deny', status: 400 });
    expect(decideSync(guard, { session: null, path: 42 } as never)).toMatchObject({ status: 400 });
    expect(decideSync(guard, { session: null, path: '/x', routePattern: 42 } as never)).toMatchObject({
      status: 400,
    });
  });
});

describe('decide: hostile paths stay protected under /admin/**', () => {
  const guard = createGuard({ rules: [{ pattern: '/admin/**', role: 'admin' }] });
  const hostile = [
    '/admin',
    '/ADMIN',
    '/AdMiN/users',
    '/admin/',
    '/admin//',
    '//admin',
    '///admin/x',
    '\\admin',
    '/\\admin',
    '/admin\\x',
    '/%61dmin',
    '/%41DMIN',
    '/%2561dmin',
    '/%252561dmin',
    '/%2Fadmin',
    '/%2fadmin/x',
    '/%5Cadmin',
    '/%5cadmin%5cx',
    '/admin%2F..',
    '/admin%2F%2E%2E',
    '/admin/..;/',
    '/..;/admin',
    '/./admin',
    '/%2e/admin',
    '/%2e%2e/admin',
    '/public/../admin',
    '/public/%2e%2e/admin',
    '/public%2F..%2Fadmin',
    '/admin;x',
    '/admin;jsessionid=abc/users',
    '/admin%3Bx',
    '/admin\u037ex',
    '/admin%CD%BEx',
    '/admin%00',
    '/admin\u0000',
    '/%00/admin',
    '/admin%09',
    '/admin%0a',
    '/admin\r\n',
    '/admin%C0%AE',
    '/admin/%',
    '/admin/%zz',
    `/admin/${'a'.repeat(100_000)}`,
    `/${'x/'.repeat(50_000)}`,
  ];

  it.each(hostile)('%j is not allowed for a signed-out session', (path) => {
    const decision = decideSync(guard, { session: null, path });
    expect(decision.action).not.toBe('allow');
    expect(decideSync(guard, { session: user, path }).action).not.toBe('allow');
  });

  it.each(['/adm\u0131n', '/\u212a'])('%j case-folds into a protected path (more protection, never less)', (path) => {
    const folding = createGuard({
      rules: [
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/k', role: 'k' },
      ],
    });
    expect(decideSync(folding, { session: null, path }).action).toBe('redirect');
  });

  it.each(['/\uff41dmin', '/\u0430dmin', '/ADM\u0130N', '/admin\u200b', '/admin%E2%80%8B', '/%EF%BC%A1DMIN'])(
    'look-alike %j does not match, and does not crash',
    (path) => {
      expect(decideSync(guard, { session: null, path })).toEqual({ action: 'allow', rule: undefined });
    },
  );

  it('never throws and never allows a path the normaliser maps into /admin (property)', () => {
    const chars = fc.constantFrom(...'/\\.;%2fF5cCeE0aA'.split(''), 'admin', 'ADMIN', '%61', '%2e', '%2F', '\u0000');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 16 }), (text) => {
        const path = `/${text}`;
        const match = guard.match(path);
        const decision = decideSync(guard, { session: null, path });
        if (match.ok && match.required.length > 0) expect(decision.action).toBe('redirect');
        if (!match.ok) expect(decision).toMatchObject({ action: 'deny', status: 400 });
      }),
      { numRuns: 3000 },
    );
  });
});

describe('decide: requirements', () => {
  it('role matches the primary role or membership in roles; roles is any of; permissions all of', () => {
    const guard = createGuard({
      rules: [
        { pattern: '/a', role: 'admin' },
        { pattern: '/b', roles: ['owner', 'billing'] },
        { pattern: '/c', permission: 'c:read' },
        { pattern: '/d', permissions: ['d:read', 'd:write'] },
        { pattern: '/e', role: 'staff', permission: 'e:read' },
      ],
    });
    const cases: [GuardSession, string, boolean][] = [
      [{ userId: 'u', role: 'admin' }, '/a', true],
      [{ userId: 'u', role: 'user', roles: ['admin'] }, '/a', true],
      [{ userId: 'u', role: 'user' }, '/a', false],
      [{ userId: 'u', roles: ['billing'] }, '/b', true],
      [{ userId: 'u', role: 'owner' }, '/b', true],
      [{ userId: 'u', roles: ['admin'] }, '/b', false],
      [{ userId: 'u', permissions: ['c:read'] }, '/c', true],
      [{ userId: 'u', permissions: ['c:write'] }, '/c', false],
      [{ userId: 'u', permissions: ['d:read', 'd:write'] }, '/d', true],
      [{ userId: 'u', permissions: ['d:read'] }, '/d', false],
      [{ userId: 'u', role: 'staff', permissions: ['e:read'] }, '/e', true],
      [{ userId: 'u', role: 'staff' }, '/e', false],
      [{ userId: 'u', permissions: ['e:read'] }, '/e', false],
      [{ userId: 'u', role: 'admin', roles: 'admin' }, '/a', true],
      [{ userId: 'u', roles: [null, 7, { admin: true }] }, '/a', false],
      [{ userId: 'u', permissions: Array.from({ length: 1001 }, () => 'c:read') }, '/c', false],
    ];
    for (const [session, path, allowed] of cases) {
      expect(decideSync(guard, { session, path }).action, `${JSON.stringify(session).slice(0, 80)} ${path}`).toBe(
        allowed ? 'allow' : 'deny',
      );
    }
  });

  it('calls allow only for signed-in sessions, after the built-in requirements, with the context', () => {
    const allow = vi.fn((session: { plan?: string }, context: { locale: string }) => {
      expect(context).toEqual({ locale: 'en' });
      return session.plan === 'premium';
    });
    const guard = createGuard<{ userId?: string; role?: string; plan?: string }, { locale: string }>({
      rules: [{ pattern: '/premium/**', role: 'member', allow }],
    });
    const context = { locale: 'en' };
    expect(decideSync(guard, { session: null, path: '/premium', context }).action).toBe('redirect');
    expect(decideSync(guard, { session: { userId: 'u', plan: 'premium' }, path: '/premium', context }).action).toBe(
      'deny',
    );
    expect(allow).not.toHaveBeenCalled();
    const premium = { userId: 'u', role: 'member', plan: 'premium' };
    expect(decideSync(guard, { session: premium, path: '/premium/x', context }).action).toBe('allow');
    expect(allow).toHaveBeenCalledWith(premium, context);
    expect(decideSync(guard, { session: { ...premium, plan: 'free' }, path: '/premium', context }).action).toBe('deny');
  });

  it('allows only on exactly true', () => {
    for (const value of [1, 'true', {}, [], null, undefined]) {
      const guard = createGuard({ rules: [{ pattern: '/x', allow: () => value as boolean }] });
      expect(decideSync(guard, { session: user, path: '/x' }).action).toBe('deny');
    }
  });

  it('supports async allow: decide() always answers with a promise, the immediate entry only when a hook returns one', async () => {
    const guard = createGuard({
      rules: [
        { pattern: '/sync', allow: () => true },
        { pattern: '/async/**', allow: async (session) => (session as { userId: string }).userId === 'u_admin' },
      ],
    });
    const settled = guard.decide({ session: user, path: '/sync' });
    expect(settled).toBeInstanceOf(Promise);
    expect(await settled).toMatchObject({ action: 'allow', rule: { pattern: '/sync' } });
    expect(decideImmediately(guard, { session: user, path: '/sync' })).not.toBeInstanceOf(Promise);
    expect(decideImmediately(guard, { session: admin, path: '/async/x' })).toBeInstanceOf(Promise);
    const pending = guard.decide({ session: admin, path: '/async/x' });
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toMatchObject({ action: 'allow', rule: { pattern: '/async/**' } });
    expect(await guard.decide({ session: user, path: '/async/x' })).toMatchObject({ action: 'deny', status: 403 });
  });

  it('fails closed when a hook throws or rejects, and reports the pattern and stage but not the session', async () => {
    const onError = vi.fn();
    const boom = new Error('boom');
    const guard = createGuard({
      onError,
      rules: [
        {
          pattern: '/throws',
          allow: () => {
            throw boom;
          },
        },
        { pattern: '/rejects', allow: () => Promise.reject(boom) },
        { pattern: '/thenable', allow: () => hostileThenable() },
        { pattern: '/getter', allow: () => hostileGetter() },
      ],
    });
    expect(decideSync(guard, { session: admin, path: '/throws' })).toMatchObject({ action: 'deny', status: 403 });
    expect(onError).toHaveBeenLastCalledWith(boom, { pattern: '/throws', stage: 'allow' });
    expect(await guard.decide({ session: admin, path: '/rejects' })).toMatchObject({ action: 'deny', status: 403 });
    expect(onError).toHaveBeenLastCalledWith(boom, { pattern: '/rejects', stage: 'allow' });
    expect(await guard.decide({ session: admin, path: '/thenable' })).toMatchObject({ action: 'deny' });
    expect(onError).toHaveBeenLastCalledWith(expect.any(TypeError), { pattern: '/thenable', stage: 'allow' });
    expect(decideSync(guard, { session: admin, path: '/getter' })).toMatchObject({ action: 'deny' });
    expect(onError).toHaveBeenLastCalledWith(expect.any(RangeError), { pattern: '/getter', stage: 'allow' });
    for (const call of onError.mock.calls) expect(JSON.stringify(call)).not.toContain('u_admin');
  });

  it('fails closed when access hooks or the session itself throw, and survives a throwing onError', () => {
    const onError = vi.fn(() => {
      throw new Error('logger down');
    });
    const guard = createGuard({
      onError,
      access: {
        getRole: () => {
          throw new Error('db down');
        },
      },
      rules: [{ pattern: '/a', role: 'admin' }],
    });
    expect(decideSync(guard, { session: admin, path: '/a' })).toMatchObject({ action: 'deny', status: 403 });
    expect(onError).toHaveBeenCalledWith(expect.any(Error), { pattern: '/a', stage: 'requirements' });

    const hostile = {
      get userId(): string {
        throw new Error('getter');
      },
    };
    expect(decideSync(guard, { session: hostile, path: '/a' })).toMatchObject({ reason: 'unauthenticated' });
    expect(onError).toHaveBeenLastCalledWith(expect.any(Error), { pattern: '/a', stage: 'session' });
  });

  it('access.check replaces the built-in checks and allow, and receives the rule, session and context', async () => {
    const allow = vi.fn(() => true);
    const check = vi.fn((_rule: { pattern: string }, session: { userId?: string }) => session.userId === 'u_user');
    const guard = createGuard({ access: { check }, rules: [{ pattern: '/a', role: 'admin', allow }] });
    expect(decideSync(guard, { session: user, path: '/a', context: 'ctx' }).action).toBe('allow');
    expect(check).toHaveBeenCalledWith(guard.rules[0], user, 'ctx');
    expect(decideSync(guard, { session: admin, path: '/a' }).action).toBe('deny');
    expect(allow).not.toHaveBeenCalled();
    expect(decideSync(guard, { session: null, path: '/a' }).action).toBe('redirect');
    expect(check).toHaveBeenCalledTimes(2);

    const onError = vi.fn();
    const failing = createGuard({
      onError,
      access: { check: async () => Promise.reject(new Error('x')) },
      rules: [{ pattern: '/a', role: 'admin' }],
    });
    expect(await failing.decide({ session: admin, path: '/a' })).toMatchObject({ action: 'deny' });
    expect(onError).toHaveBeenCalledWith(expect.any(Error), { pattern: '/a', stage: 'check' });
  });

  it('uses access.getRole and access.getPermissions', () => {
    const guard = createGuard<{ userId: string; level: string; grants: string[] }>({
      access: { getRole: (session) => session.level, getPermissions: (session) => session.grants },
      rules: [
        { pattern: '/a', role: 'admin' },
        { pattern: '/b', permission: 'b' },
      ],
    });
    expect(decideSync(guard, { session: { userId: 'u', level: 'admin', grants: [] }, path: '/a' }).action).toBe(
      'allow',
    );
    expect(decideSync(guard, { session: { userId: 'u', level: 'user', grants: ['b'] }, path: '/b' }).action).toBe(
      'allow',
    );
    expect(decideSync(guard, { session: { userId: 'u', level: 'user', grants: [] }, path: '/a' }).action).toBe('deny');
  });
});

describe('decide: authenticated: true', () => {
  const rules: GuardRule[] = [
    { pattern: '/**', authenticated: true },
    { pattern: '/admin/**', role: 'admin' },
    { pattern: '/login', public: true },
  ];
  const guard = createGuard({ rules });

  it('requires a signed-in session and nothing more', () => {
    expect(decideSync(guard, { session: null, path: '/account' })).toMatchObject({
      action: 'redirect',
      location: '/login?returnTo=%2Faccount',
      rule: { pattern: '/**', authenticated: true },
    });
    expect(decideSync(guard, { session: { userId: '' }, path: '/account' }).action).toBe('redirect');
    expect(decideSync(guard, { session: { userId: 'u' }, path: '/account' })).toEqual({
      action: 'allow',
      rule: { pattern: '/**', authenticated: true },
    });
  });

  it('combines with the other requirements like any requirement: every matching rule must pass, in rule order', () => {
    expect(decideSync(guard, { session: { userId: 'u', role: 'user' }, path: '/admin/x' })).toMatchObject({
      action: 'deny',
      status: 403,
      rule: { pattern: '/admin/**' },
    });
    expect(decideSync(guard, { session: { userId: 'u', role: 'admin' }, path: '/admin/x' })).toEqual({
      action: 'allow',
      rule: { pattern: '/**', authenticated: true },
    });
    const both = createGuard({ rules: [{ pattern: '/x', authenticated: true, role: 'admin' }] });
    expect(decideSync(both, { session: { userId: 'u' }, path: '/x' }).action).toBe('deny');
    expect(decideSync(both, { session: { userId: 'u', role: 'admin' }, path: '/x' }).action).toBe('allow');
    expect(decideSync(both, { session: null, path: '/x' }).action).toBe('redirect');
  });

  it('is lifted by a narrower public exception, and access.check still replaces the checks', () => {
    expect(decideSync(guard, { session: null, path: '/login' })).toEqual({
      action: 'allow',
      rule: { pattern: '/login', public: true },
    });
    const check = vi.fn(() => false);
    const checked = createGuard({ access: { check }, rules: [{ pattern: '/x', authenticated: true }] });
    expect(decideSync(checked, { session: { userId: 'u' }, path: '/x' }).action).toBe('deny');
    expect(check).toHaveBeenCalledWith(checked.rules[0], { userId: 'u' }, undefined);
  });

  it('is plain data: it survives the JSON that carries astro.config options', () => {
    const copied = createGuard({ rules: JSON.parse(JSON.stringify(rules)) as GuardRule[] });
    expect(copied.rules).toEqual(guard.rules);
    expect(decideSync(copied, { session: null, path: '/account' }).action).toBe('redirect');
  });

  it('must be exactly true, is spelled right, and has no place on a public rule', () => {
    for (const value of [false, 'true', 1, null]) {
      expectConfigError(
        () => createGuard({ rules: [{ pattern: '/a', authenticated: value }] } as never),
        'authenticated must be true when given',
        'public: true',
      );
    }
    expectConfigError(
      () => createGuard({ rules: [{ pattern: '/a', authenticate: true }] } as never),
      'rules[0]: unknown option "authenticate"',
      'Did you mean "authenticated"?',
    );
    expectConfigError(
      () => createGuard({ rules: [{ pattern: '/a', Authenticated: true }] } as never),
      'unknown option "Authenticated"',
      '"authenticated"',
    );
    expectConfigError(
      () => createGuard({ rules: [{ pattern: '/a', public: true, authenticated: true }] } as never),
      'a public rule cannot also have authenticated',
    );
  });

  it('is typed as true only (compile-time)', () => {
    const options: GuardOptions = {
      rules: [
        { pattern: '/a', authenticated: true },
        // @ts-expect-error authenticated is `true` or absent
        { pattern: '/b', authenticated: false },
        // @ts-expect-error a public rule has no requirements
        { pattern: '/c', public: true, authenticated: true },
      ],
    };
    expect(options.rules).toHaveLength(3);
  });
});

describe('decide: precedence', () => {
  const signedIn = () => true;

  it('requires every matching rule, evaluated in rule order, stopping at the first failure', () => {
    const second = vi.fn(() => true);
    const guard = createGuard({
      rules: [
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/admin/billing/**', permission: 'billing:write', redirectTo: '/billing-denied' },
        { pattern: '/admin/billing/invoices', allow: second },
      ],
    });
    const path = '/admin/billing/invoices';
    expect(decideSync(guard, { session: user, path })).toMatchObject({ rule: { pattern: '/admin/**' }, status: 403 });
    expect(decideSync(guard, { session: admin, path })).toMatchObject({
      action: 'redirect',
      location: '/billing-denied',
      rule: { pattern: '/admin/billing/**' },
    });
    expect(second).not.toHaveBeenCalled();
    const billing = { ...admin, permissions: ['billing:write'] };
    expect(decideSync(guard, { session: billing, path })).toMatchObject({
      action: 'allow',
      rule: { pattern: '/admin/**' },
    });
    expect(second).toHaveBeenCalledOnce();
    const match = guard.match(path);
    expect(match).toMatchObject({ ok: true, path, exception: undefined });
    expect(match.ok && match.required).toEqual(guard.rules);
  });

  it('does not let a later, looser rule shadow an earlier, stricter one (or the reverse)', () => {
    for (const rules of [
      [
        { pattern: '/**', allow: signedIn },
        { pattern: '/admin/**', role: 'admin' },
      ],
      [
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/**', allow: signedIn },
      ],
    ] as GuardRule[][]) {
      const guard = createGuard({ rules: [...rules, { pattern: '/login', public: true }] });
      expect(decideSync(guard, { session: user, path: '/admin/x' }).action).toBe('deny');
      expect(decideSync(guard, { session: admin, path: '/admin/x' }).action).toBe('allow');
      expect(decideSync(guard, { session: user, path: '/home' }).action).toBe('allow');
      expect(decideSync(guard, { session: null, path: '/home' }).action).toBe('redirect');
    }
  });

  it('lifts protection for a public exception narrower than every matching protecting rule', () => {
    const guard = createGuard({
      rules: [
        { pattern: '/**', allow: signedIn },
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/admin/help', public: true },
        { pattern: '/login', public: true },
        { pattern: '/assets/**', public: true },
      ],
    });
    expect(decideSync(guard, { session: null, path: '/admin/help' })).toEqual({
      action: 'allow',
      rule: { pattern: '/admin/help', public: true },
    });
    expect(decideSync(guard, { session: null, path: '/admin/help/more' }).action).toBe('redirect');
    expect(decideSync(guard, { session: null, path: '/assets/app.css' }).action).toBe('allow');
    expect(decideSync(guard, { session: null, path: '/assets' }).action).toBe('allow');
  });

  it('ignores a public exception that is not narrower than every matching protecting rule', () => {
    const guard = createGuard({
      rules: [
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/**', public: true },
        { pattern: '/admin/*', public: true },
        { pattern: '/admin/*/edit', permission: 'edit' },
      ],
    });
    // '/**' is broader than '/admin/**': ignored.
    expect(decideSync(guard, { session: null, path: '/admin' }).action).toBe('redirect');
    // '/admin/*' is narrower than '/admin/**' (and '/**' is not), so it lifts /admin/x ...
    expect(decideSync(guard, { session: null, path: '/admin/x' })).toMatchObject({
      action: 'allow',
      rule: { pattern: '/admin/*' },
    });
    // ... but not /admin/x/edit, where it is not narrower than '/admin/*/edit': both protecting rules apply.
    expect(decideSync(guard, { session: { userId: 'u', permissions: ['edit'] }, path: '/admin/x/edit' })).toMatchObject(
      { action: 'deny', rule: { pattern: '/admin/**' } },
    );
    expect(
      decideSync(guard, { session: { userId: 'u', role: 'admin', permissions: ['edit'] }, path: '/admin/x/edit' })
        .action,
    ).toBe('allow');
    // Nothing protects /about: the public rule is reported.
    expect(decideSync(guard, { session: null, path: '/about' })).toEqual({
      action: 'allow',
      rule: { pattern: '/**', public: true },
    });
  });

  it('matches the table in docs/guard.md', () => {
    const guard = createGuard({
      rules: [
        { pattern: '/**', authenticated: true },
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/docs/internal/**', role: 'staff' },
        { pattern: '/login', public: true },
        { pattern: '/admin/help', public: true },
        { pattern: '/docs/**', public: true },
      ],
    });
    const [A, B, C, P1, P2, P3] = guard.rules;
    const table: [string, unknown[], unknown, unknown[]][] = [
      ['/login', [A, P1], P1, []],
      ['/blog', [A], undefined, [A]],
      ['/admin/users', [A, B], undefined, [A, B]],
      ['/admin/help', [A, B, P2], P2, []],
      ['/docs/guide', [A, P3], P3, []],
      ['/docs/internal/plan', [A, C, P3], undefined, [A, C]],
    ];
    for (const [path, matched, exception, required] of table) {
      expect(guard.match(path), path).toEqual({ ok: true, path, matched, exception, required });
    }
    expect(decideSync(guard, { session: { userId: 'u', role: 'admin' }, path: '/docs/internal/plan' })).toMatchObject({
      action: 'deny',
      rule: C,
    });
    expect(decideSync(guard, { session: { userId: 'u', roles: ['staff'] }, path: '/docs/internal/plan' }).action).toBe(
      'allow',
    );
  });

  it('treats methods as part of what a rule covers', () => {
    const guard = createGuard({
      rules: [
        { pattern: '/api/hooks/**', allow: signedIn },
        { pattern: '/api/hooks/stripe', public: true, methods: ['POST'] },
        { pattern: '/api/posts/**', methods: ['POST', 'put', 'DELETE'], permission: 'posts:write' },
        { pattern: '/x/**', methods: ['POST'], allow: signedIn },
        { pattern: '/x/**', public: true },
      ],
    });
    expect(decideSync(guard, { session: null, path: '/api/hooks/stripe', method: 'POST' }).action).toBe('allow');
    expect(decideSync(guard, { session: null, path: '/api/hooks/stripe', method: 'GET' })).toMatchObject({
      status: 401,
    });
    expect(decideSync(guard, { session: null, path: '/api/posts/1' })).toEqual({ action: 'allow', rule: undefined });
    expect(decideSync(guard, { session: null, path: '/api/posts/1', method: 'put' })).toMatchObject({ status: 401 });
    expect(decideSync(guard, { session: user, path: '/api/posts/1', method: 'Delete' })).toMatchObject({
      status: 403,
    });
    // The public '/x/**' (every method) is not narrower than the POST-only rule: POST stays protected.
    expect(decideSync(guard, { session: null, path: '/x/a', method: 'POST' })).toMatchObject({ status: 401 });
    expect(decideSync(guard, { session: null, path: '/x/a' })).toMatchObject({ action: 'allow' });
  });

  it('extends a GET rule to HEAD, which servers answer with the GET handler', () => {
    const guard = createGuard({
      rules: [
        { pattern: '/reports/**', methods: ['get'], role: 'admin' },
        { pattern: '/api/**', allow: signedIn },
        { pattern: '/api/**', methods: ['OPTIONS'], public: true },
      ],
    });
    expect(decideSync(guard, { session: null, path: '/reports/q1', method: 'HEAD' }).action).toBe('redirect');
    expect(decideSync(guard, { session: null, path: '/reports/q1', method: 'POST' }).action).toBe('allow');
    // A method-only exception (CORS preflights) is narrower than the rule covering every method.
    expect(decideSync(guard, { session: null, path: '/api/x', method: 'OPTIONS' }).action).toBe('allow');
    expect(decideSync(guard, { session: null, path: '/api/x', method: 'GET' })).toMatchObject({ status: 401 });
  });
});

describe('precedence model against a reference implementation', () => {
  /** Exhaustive path-set inclusion, independent of the guard's own inclusion test. */
  function coversByEnumeration(outer: ParsedPattern, inner: ParsedPattern): boolean {
    const alphabet = [
      ...new Set([...outer.tokens, ...inner.tokens].filter((token): token is string => token !== null)),
      'fresh',
    ];
    const maxLength = Math.max(outer.tokens.length, inner.tokens.length) + 2;
    const path: string[] = [];
    const visit = (): boolean => {
      if (patternMatchesSlow(inner, path) && !patternMatchesSlow(outer, path)) return false;
      if (path.length === maxLength) return true;
      for (const segment of alphabet) {
        path.push(segment);
        const ok = visit();
        path.pop();
        if (!ok) return false;
      }
      return true;
    };
    return visit();
  }

  const METHODS = ['GET', 'POST', 'DELETE'];
  const methodSet = (rule: GuardRule) => {
    const list = rule.methods?.map((method) => method.toUpperCase());
    return list?.includes('GET') ? [...list, 'HEAD'] : list;
  };
  const subset = (inner: string[] | undefined, outer: string[] | undefined) =>
    outer === undefined || inner?.every((method) => outer.includes(method));

  /** The documented model, written the slow and obvious way. */
  function referenceRequired(rules: readonly GuardRule[], segments: string[], method: string): GuardRule[] {
    const parsed = rules.map((rule) => parsePattern(rule.pattern, false, 'reference'));
    const applies = (index: number) => {
      const methods = methodSet(rules[index] as GuardRule);
      return patternMatchesSlow(parsed[index] as ParsedPattern, segments) && (!methods || methods.includes(method));
    };
    const matching = rules.map((_, index) => index).filter(applies);
    const protecting = matching.filter((index) => !('public' in (rules[index] as GuardRule)));
    const exceptions = matching.filter((index) => 'public' in (rules[index] as GuardRule));
    const narrower = (p: number, q: number) => {
      const [pp, qq] = [parsed[p] as ParsedPattern, parsed[q] as ParsedPattern];
      const [pm, qm] = [methodSet(rules[p] as GuardRule), methodSet(rules[q] as GuardRule)];
      const within = coversByEnumeration(qq, pp) && subset(pm, qm);
      const same = within && coversByEnumeration(pp, qq) && subset(qm, pm);
      return within && !same;
    };
    if (exceptions.some((p) => protecting.every((q) => narrower(p, q)))) return [];
    return protecting.map((index) => rules[index] as GuardRule);
  }

  const ruleArbitrary = fc.record({
    pattern: fc
      .tuple(fc.array(fc.constantFrom('a', 'b', '*'), { maxLength: 3 }), fc.constantFrom('', '/*', '/**'))
      .map(([parts, tail]) =>
        parts.length === 0 && tail === '' ? '/' : `${parts.map((p) => `/${p}`).join('')}${tail}`,
      ),
    isPublic: fc.boolean(),
    methods: fc.option(fc.subarray(METHODS, { minLength: 1 }), { nil: undefined }),
  });

  it('guard.match agrees with the model on random rule sets, paths and methods', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArbitrary, { minLength: 1, maxLength: 8 }),
        fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 5 }),
        fc.constantFrom(...METHODS, 'HEAD'),
        (specs, segments, method) => {
          const rules: GuardRule[] = specs.map((spec) =>
            spec.isPublic
              ? { pattern: spec.pattern, public: true, ...(spec.methods && { methods: spec.methods }) }
              : { pattern: spec.pattern, role: 'r', ...(spec.methods && { methods: spec.methods }) },
          );
          let guard: Guard;
          try {
            guard = createGuard({ loginPath: '/login', rules: [...rules, { pattern: '/login', public: true }] });
          } catch (error) {
            if (isSessionKitError(error, 'ERR_CONFIG_INVALID')) return; // a contradiction: refused by design
            throw error;
          }
          const match = guard.match(`/${segments.join('/')}`, method);
          const expected = referenceRequired(guard.rules.slice(0, -1), segments, method);
          expect(match.ok && match.required.map((rule) => guard.rules.indexOf(rule))).toEqual(
            expected.map((rule) => guard.rules.indexOf(rule)),
          );
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('decide: route patterns and ambiguous paths', () => {
  const guard = createGuard({
    rules: [
      { pattern: '/admin/*', role: 'admin' },
      { pattern: '/admin/settings', permission: 'settings' },
      { pattern: '/repos/*/settings', role: 'owner' },
      { pattern: '/docs/help', public: true },
      { pattern: '/docs/**', allow: () => true },
    ],
  });

  it('denies when the route pattern is protected even if the URL path is not', () => {
    expect(decideSync(guard, { session: null, path: '/somewhere', routePattern: '/admin/[id]' })).toMatchObject({
      action: 'redirect',
      rule: { pattern: '/admin/*' },
    });
    expect(guard.matchRoute('/Admin/[id]')).toMatchObject({
      ok: true,
      path: '/admin/[id]',
      required: [{ pattern: '/admin/*' }],
    });
    expect(guard.matchRoute('/docs/[...slug]')).toMatchObject({ required: [{ pattern: '/docs/**' }] });
    expect(guard.matchRoute('/[lang]/about')).toMatchObject({ required: [] });
  });

  it('applies the rules of both the path and the route', () => {
    const session = { userId: 'u', role: 'admin' };
    expect(decideSync(guard, { session, path: '/admin/settings', routePattern: '/admin/[id]' })).toMatchObject({
      action: 'deny',
      rule: { pattern: '/admin/settings' },
    });
    expect(decideSync(guard, { session, path: '/admin/users', routePattern: '/admin/[id]' }).action).toBe('allow');
    // A literal rule never applies to a parameter segment of the route alone.
    expect(guard.matchRoute('/admin/[id]')).toMatchObject({ required: [{ pattern: '/admin/*' }] });
  });

  it('lifts protection only when both readings are public', () => {
    expect(decideSync(guard, { session: null, path: '/docs/help', routePattern: '/docs/help' }).action).toBe('allow');
    expect(decideSync(guard, { session: null, path: '/docs/help', routePattern: '/docs/[...slug]' }).action).toBe(
      'redirect',
    );
  });

  it('reads each route pattern once and hands out that reading read-only', async () => {
    const explained = await guard.explain({ session: null, path: '/somewhere', routePattern: '/admin/[id]' });
    const route = explained.sources.find((source) => source.source === 'route');
    expect(route?.normalized).toMatchObject({ ok: true, path: '/admin/[id]' });
    expect(Object.isFrozen(route?.normalized)).toBe(true);
    const normalized = route?.normalized;
    if (!normalized?.ok) throw new Error('the route reading is missing');
    const segments = normalized.segments as string[];
    expect(() => segments.splice(0, segments.length, 'docs')).toThrow(TypeError);
    expect(decideSync(guard, { session: null, path: '/somewhere', routePattern: '/admin/[id]' })).toMatchObject({
      action: 'redirect',
      rule: { pattern: '/admin/*' },
    });
  });

  it('decides correctly past the number of route patterns it remembers', () => {
    for (let index = 0; index < 600; index++) {
      expect(decideSync(guard, { session: null, path: '/x', routePattern: `/page-${index}` }).action).toBe('allow');
    }
    expect(decideSync(guard, { session: null, path: '/x', routePattern: '/admin/[id]' }).action).toBe('redirect');
    expect(decideSync(guard, { session: null, path: '/x', routePattern: '/admin/[page]' }).action).toBe('redirect');
  });

  it('refuses an unusable route pattern', () => {
    expect(decideSync(guard, { session: null, path: '/x', routePattern: '/a/../admin' })).toMatchObject({
      status: 400,
    });
  });

  it('protects a path that a router not splitting on %2F would serve from a parameter route', () => {
    expect(guard.match('/repos/a%2Fb/settings')).toMatchObject({
      ok: true,
      path: '/repos/a/b/settings',
      required: [{ pattern: '/repos/*/settings' }],
    });
    expect(decideSync(guard, { session: null, path: '/repos/a%2Fb/settings' }).action).toBe('redirect');
    expect(decideSync(guard, { session: null, path: '/repos/a;b/settings' }).action).toBe('redirect');
    expect(decideSync(guard, { session: null, path: '/repos/a%2Fb/readme' }).action).toBe('allow');
  });
});

describe('match and explain', () => {
  const guard = createGuard({
    rules: [
      { pattern: '/admin/**', role: 'admin' },
      { pattern: '/**', public: true },
      { pattern: '/admin/help', public: true },
      { pattern: '/admin/async', allow: async () => false },
    ],
  });

  it('match reports required, matched and the exception', () => {
    expect(guard.match('/admin/help')).toEqual({
      ok: true,
      path: '/admin/help',
      required: [],
      matched: [guard.rules[0], guard.rules[1], guard.rules[2]],
      exception: guard.rules[2],
    });
    expect(guard.match('/ADMIN/x', 'post')).toMatchObject({ required: [guard.rules[0]], exception: undefined });
    expect(guard.match('/%2561')).toEqual({ ok: false, reason: 'double-encoding' });
  });

  it('explain says which rules matched, which exceptions were ignored, and how each check went', async () => {
    expect(await guard.explain({ session: null, path: '/about', method: 'POST' })).toMatchObject({
      kind: 'api',
      decision: { action: 'allow', rule: guard.rules[1] },
    });
    const explanation = await guard.explain({ session: user, path: '/admin/async', accept: 'application/json' });
    expect(explanation).toMatchObject({
      method: 'GET',
      kind: 'api',
      authenticated: true,
      decision: { action: 'deny', status: 403, rule: { pattern: '/admin/**' } },
      sources: [
        {
          source: 'path',
          normalized: { ok: true, path: '/admin/async' },
          matched: [guard.rules[0], guard.rules[1], guard.rules[3]],
          exception: undefined,
          ignoredExceptions: [guard.rules[1]],
        },
      ],
      checks: [{ rule: guard.rules[0], outcome: 'fail' }],
    });
    const asyncExplanation = await guard.explain({ session: admin, path: '/admin/async' });
    expect(asyncExplanation.checks).toEqual([
      { rule: guard.rules[0], outcome: 'pass' },
      { rule: guard.rules[3], outcome: 'fail' },
    ]);
    const bad = await guard.explain({ session: null, path: '/a%00' });
    expect(bad).toMatchObject({
      decision: { status: 400 },
      sources: [{ source: 'path', normalized: { ok: false, reason: 'control-character' } }],
    });
    expect(JSON.stringify(await guard.explain({ session: admin, path: '/admin/x' }))).not.toContain('u_admin');
  });
});

describe('requestInput', () => {
  it('reads the request facts decide needs', () => {
    const request = new Request('https://app.example/admin/%61?x=1', {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(requestInput(request)).toEqual({
      path: '/admin/%61',
      search: '?x=1',
      method: 'POST',
      accept: 'application/json',
      contentType: 'application/json',
    });
  });
});

describe('ReDoS resistance (correctness on adversarial input; speed is measured in bench/guard)', () => {
  it('decides 10k-character paths against adversarial rule sets correctly', () => {
    const rules: GuardRule[] = [];
    for (let depth = 1; depth <= 40; depth++) {
      rules.push({ pattern: `/${Array.from({ length: depth }, () => '*').join('/')}/x`, allow: () => true });
    }
    rules.push({ pattern: `/${'a/'.repeat(3000)}**`, role: 'deep' });
    rules.push({ pattern: '/login', public: true });
    const guard = createGuard({ rules });
    const path = `/${'a/'.repeat(4999)}a`;
    expect(path.length).toBeGreaterThan(9999);
    expect(decideSync(guard, { session: user, path })).toMatchObject({ action: 'deny', rule: { role: 'deep' } });
    const miss = `/${'a/'.repeat(39)}y${'/a'.repeat(4900)}`;
    expect(decideSync(guard, { session: null, path: miss })).toEqual({ action: 'allow', rule: undefined });
    const hit = `/${'a/'.repeat(39)}x`;
    expect(decideSync(guard, { session: user, path: hit })).toMatchObject({ action: 'allow' });
    expect(guard.match(hit)).toMatchObject({ required: [{ pattern: expect.stringMatching(/\/x$/) }] });
  });
});

describe('types (compile-time)', () => {
  it('rejects contradictory rules at compile time', () => {
    const options: GuardOptions = {
      rules: [
        { pattern: '/a', role: 'x' },
        { pattern: '/b', public: true },
        // @ts-expect-error a public rule cannot have requirements
        { pattern: '/c', public: true, role: 'x' },
        // @ts-expect-error public must be true
        { pattern: '/d', public: false },
      ],
    };
    expect(options.rules).toHaveLength(4);
  });

  it('types allow and access hooks with the session and context types', async () => {
    interface MySession {
      userId: string;
      plan: 'free' | 'premium';
    }
    const guard = createGuard<MySession, { locale: string }>({
      rules: [{ pattern: '/p', allow: (session, context) => session.plan === 'premium' && context.locale === 'en' }],
      access: { getRole: (session) => session.plan },
    });
    const decision = await guard.decide({
      session: { userId: 'u', plan: 'premium' },
      path: '/p',
      context: { locale: 'en' },
    });
    expect(decision).toMatchObject({ action: 'allow' });
    // @ts-expect-error the session type is enforced
    guard.decide({ session: { userId: 'u', plan: 'gold' }, path: '/p' });
  });
});

describe('classify', () => {
  const guard = createGuard({ rules: [{ pattern: '/admin/**', role: 'admin' }], apiPrefixes: ['/api/'] });
  it('tells API requests from page visits by the same rules as decide', () => {
    expect(guard.classify({ path: '/admin', method: 'GET', accept: 'text/html' })).toBe('page');
    expect(guard.classify({ path: '/admin', method: 'POST', accept: 'text/html' })).toBe('api');
    expect(guard.classify({ path: '/api/users', method: 'GET' })).toBe('api');
    expect(guard.classify({ path: '/admin', method: 'GET', accept: 'application/json' })).toBe('api');
    expect(guard.classify({ path: '/admin', method: 'GET', contentType: 'application/json' })).toBe('api');
    expect(guard.classify({ path: '/%zz', method: 'GET', accept: 'text/html' })).toBe('page');
  });
});
