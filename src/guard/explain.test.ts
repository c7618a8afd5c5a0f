import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { isSessionKitError } from '../core/errors.ts';
import { createGuard, type DecideInput, type Guard, type GuardRule, type GuardSession } from './index.ts';
import { decideImmediately } from './internal.ts';

/** Rule requirements, each a pure function of the session so that two evaluations agree. */
const requirement = fc.constantFrom<Partial<GuardRule>>(
  { authenticated: true },
  { role: 'admin' },
  { roles: ['staff', 'admin'] },
  { permission: 'read' },
  { permissions: ['read', 'write'] },
  { allow: (session) => session.plan === 'pro' },
  { allow: async (session) => session.plan === 'pro' },
  { allow: () => 'yes' as unknown as boolean },
  {
    allow: () => {
      throw new Error('hook failed');
    },
  },
  { allow: () => Promise.reject(new Error('hook rejected')) },
  { role: 'admin', redirectTo: '/denied' },
);

const segment = fc.constantFrom('a', 'a', 'b', 'b', 'api', 'denied');
const pattern = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '*', '[id]'), { maxLength: 3 }), fc.constantFrom('', '/*', '/**'))
  .map(([parts, tail]) => (parts.length === 0 && tail === '' ? '/' : `${parts.map((p) => `/${p}`).join('')}${tail}`));
const methods = fc.option(fc.subarray(['GET', 'POST', 'DELETE'], { minLength: 1 }), { nil: undefined });
const rule: fc.Arbitrary<GuardRule> = fc.oneof(
  fc
    .record({ pattern, methods })
    .map(({ pattern, methods }): GuardRule => ({ pattern, public: true, ...(methods && { methods }) })),
  fc
    .record({ pattern, methods, requirement })
    .map(
      ({ pattern, methods, requirement }) => ({ pattern, ...requirement, ...(methods && { methods }) }) as GuardRule,
    ),
);

const session = fc.constantFrom<GuardSession | null>(
  null,
  { userId: '' },
  { userId: 'u1' },
  { userId: 'u2', role: 'admin', permissions: ['read', 'write'], plan: 'pro' },
  { userId: 'u2', role: 'admin', permissions: ['read', 'write'], plan: 'pro' },
  { userId: 'u3', roles: ['staff'], permissions: ['read'] },
);

const rawPath = fc.oneof(
  { weight: 4, arbitrary: fc.array(segment, { maxLength: 4 }).map((parts) => `/${parts.join('/')}`) },
  fc
    .string({ unit: fc.constantFrom('/', 'a', 'B', ';', '%2F', '%2e', '%61', '%zz', '\\', '.', '//'), maxLength: 8 })
    .map((text) => `/${text}`),
);

/** A path each rule's pattern matches (wildcards filled in), so that most requests hit rules. */
function pathsOf(rules: readonly GuardRule[]): fc.Arbitrary<string> {
  const hits = rules.map((rule) => rule.pattern.replaceAll('[id]', 'x').replaceAll('**', 'x').replaceAll('*', 'x'));
  return fc.oneof(rawPath, fc.constantFrom(...hits));
}

const inputFor = (rules: readonly GuardRule[]) =>
  fc.record({
    session,
    path: pathsOf(rules),
    search: fc.constantFrom(undefined, '?x=1'),
    method: fc.constantFrom(undefined, 'GET', 'GET', 'head', 'POST', 'DELETE'),
    accept: fc.constantFrom(undefined, null, 'text/html', 'application/json', '*/*'),
    contentType: fc.constantFrom(undefined, undefined, undefined, 'application/json'),
    routePattern: fc.constantFrom(undefined, undefined, undefined, '/a/[id]', '/b', '/[...rest]', '/a/../b'),
  });

/** A guard for the rules, or `undefined` for a set the guard refuses by design (a contradiction). */
function tryGuard(rules: GuardRule[]): Guard | undefined {
  try {
    return createGuard({
      onError: () => {},
      rules: [...rules, { pattern: '/login', public: true }, { pattern: '/denied', public: true }],
    });
  } catch (error) {
    if (isSessionKitError(error, 'ERR_CONFIG_INVALID')) return undefined;
    throw error;
  }
}

describe('explain() and decide() cannot disagree', () => {
  it('explain()’s decision equals decide()’s, for random rule sets and requests (property)', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(rule, { minLength: 1, maxLength: 6 })
          .chain((rules) => fc.tuple(fc.constant(rules), fc.array(inputFor(rules), { minLength: 1, maxLength: 5 }))),
        async ([rules, inputs]) => {
          const guard = tryGuard(rules);
          if (guard === undefined) return;
          for (const request of inputs as DecideInput[]) {
            const decided = await guard.decide(request);
            const explanation = await guard.explain(request);
            expect(explanation.decision).toEqual(decided);
            expect(await decideImmediately(guard, request)).toEqual(decided);
            if (decided.action !== 'deny' || decided.status !== 400) {
              expect(explanation.kind).toBe(guard.classify(request));
            }
            // The checks end where the decision says: at the failing rule, or after all passed.
            const last = explanation.checks.at(-1);
            if (decided.action !== 'allow' && decided.reason === 'forbidden') {
              expect(last).toMatchObject({ rule: decided.rule });
              expect(last?.outcome).not.toBe('pass');
            }
            if (decided.action === 'allow')
              expect(explanation.checks.every((check) => check.outcome === 'pass')).toBe(true);
            compared++;
          }
        },
      ),
      { numRuns: 1000 },
    );
    expect(compared).toBeGreaterThan(1000);
  });

  it('calls each hook once per explanation, in rule order, stopping at the first failure', async () => {
    const order: string[] = [];
    const hook = (name: string, result: boolean) => () => {
      order.push(name);
      return result;
    };
    const guard = createGuard({
      rules: [
        { pattern: '/**', allow: hook('all', true) },
        { pattern: '/x/**', allow: async () => hook('x', false)() },
        { pattern: '/x/y', allow: hook('y', true) },
        { pattern: '/login', public: true },
      ],
    });
    const explanation = await guard.explain({ session: { userId: 'u' }, path: '/x/y' });
    expect(order).toEqual(['all', 'x']);
    expect(explanation.checks.map((check) => [check.rule.pattern, check.outcome])).toEqual([
      ['/**', 'pass'],
      ['/x/**', 'fail'],
    ]);
    expect(explanation.decision).toMatchObject({ action: 'deny', status: 403, rule: { pattern: '/x/**' } });
  });

  it('reports a failing hook as error, to onError, without the session', async () => {
    const onError = vi.fn();
    const guard = createGuard({
      onError,
      rules: [{ pattern: '/a', allow: () => Promise.reject(new Error('down')) }],
    });
    const explanation = await guard.explain({ session: { userId: 'secret-user' }, path: '/a' });
    expect(explanation.checks).toEqual([{ rule: guard.rules[0], outcome: 'error' }]);
    expect(onError).toHaveBeenCalledWith(expect.any(Error), { pattern: '/a', stage: 'allow' });
    expect(JSON.stringify(explanation)).not.toContain('secret-user');
  });

  it('lists as ignored only the exceptions that do not lift every matching protecting rule', async () => {
    const guard = createGuard({
      rules: [
        { pattern: '/docs/**', authenticated: true },
        { pattern: '/**', public: true },
        { pattern: '/docs/*', public: true },
        { pattern: '/docs/[id]', public: true },
      ],
    });
    const [path] = (await guard.explain({ session: null, path: '/docs/guide' })).sources;
    expect(path).toMatchObject({
      matched: guard.rules,
      exception: guard.rules[2],
      ignoredExceptions: [guard.rules[1]],
    });
    expect((await guard.explain({ session: null, path: '/about' })).sources[0]).toMatchObject({
      exception: guard.rules[1],
      ignoredExceptions: [],
    });
  });

  it('answers non-objects with a 400 explanation, as decide() does', async () => {
    const guard = createGuard({ rules: [] });
    for (const value of [null, undefined, 'path']) {
      const explanation = await guard.explain(value as never);
      expect(explanation).toMatchObject({ decision: { status: 400 }, method: 'GET', sources: [], checks: [] });
      expect(explanation.decision).toEqual(await guard.decide(value as never));
    }
  });
});
