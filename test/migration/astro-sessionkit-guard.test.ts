/**
 * astro-sessionkit 0.1.33's route protection against sessionkit's, decision by decision: random
 * `protect` rules, `globalProtect` and `exclude` lists, paths and sessions, decided by 0.1.33's own
 * middlewares (the devDependency `astro-sessionkit@0.1.33`, run on a stand-in Astro context) and by
 * sessionkit's guard over the rules the integration makes of the same options
 * (`src/astro/legacy-options.ts`, which the server bundle runs).
 *
 * What must hold (docs/migration/astro-sessionkit.md, "Behaviour differences"):
 * - sessionkit never lets through a request 0.1.33 refused: a migration loses no protection;
 * - where at most one `protect` rule matches the path (0.1.33 applied only the first match,
 *   sessionkit applies all), the two decide the same;
 * - the one documented exception: 0.1.33 sent a signed-in visit to the login page to `/`.
 */

import { onRequest as guardMiddleware033 } from 'astro-sessionkit/guard';
import { onRequest as sessionMiddleware033 } from 'astro-sessionkit/middleware';
import { configureSessionKit } from 'astro-sessionkit/runtime';
import fc from 'fast-check';
import { createGuard, type GuardRule } from 'sessionkit/guard';
import { describe, expect, it } from 'vitest';
import { anySignedInSession, globalProtectRules } from '../../src/astro/legacy-options.ts';

type Session = { userId: string; role: string } | null;
interface Options {
  protect: { pattern: string; role: string }[];
  globalProtect: boolean;
  exclude: string[];
}

const loginPath = '/login';

/** 0.1.33's answer: true when the request reaches the page. */
async function allowedBy033(options: Options, path: string, session: Session): Promise<boolean> {
  configureSessionKit({ loginPath, ...options });
  const url = new URL(`http://app.test${path}`);
  const context = {
    url,
    request: new Request(url),
    session: { get: async () => session, set() {}, delete() {} },
    redirect: (location: string) => new Response(null, { status: 302, headers: { location } }),
  };
  const run = (middleware: unknown, next: () => Promise<Response>) =>
    (middleware as (context: unknown, next: () => Promise<Response>) => Promise<Response>)(context, next);
  const response = await run(sessionMiddleware033, () =>
    run(guardMiddleware033, async () => new Response('page', { status: 200 })),
  );
  return response.status === 200;
}

/** sessionkit's answer, with the rules the integration makes of the same options. */
async function allowedBySessionkit(options: Options, path: string, session: Session): Promise<boolean> {
  const rules: GuardRule[] = options.protect;
  const added = globalProtectRules({ ...options, loginPath }, rules, anySignedInSession).rules;
  const guard = createGuard({ loginPath, rules: [...rules, ...added] });
  const decision = await guard.decide({ path, method: 'GET', accept: 'text/html', session });
  return decision.action === 'allow';
}

/** How many `protect` patterns match `path`, by 0.1.33's own matching (same language for these patterns). */
function matchingRules(options: Options, path: string): number {
  return options.protect.filter(({ pattern }) => {
    const star = pattern.endsWith('/**');
    const base = star ? pattern.slice(0, -3) : pattern;
    return path === base || (star && path.startsWith(`${base}/`));
  }).length;
}

const segment = fc.constantFrom('a', 'b', 'c');
// Patterns whose meaning is the same in both packages: exact paths and "this path and below".
const pattern = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 2 }), fc.boolean())
  .map(([segments, below]) => `/${segments.join('/')}${below ? '/**' : ''}`);
const options: fc.Arbitrary<Options> = fc.record({
  protect: fc.array(fc.record({ pattern, role: fc.constantFrom('admin', 'user') }), { maxLength: 3 }),
  globalProtect: fc.boolean(),
  exclude: fc.array(pattern, { maxLength: 3 }),
});
const path = fc
  .array(fc.constantFrom('a', 'b', 'c', 'login'), { maxLength: 3 })
  .map((segments) => `/${segments.join('/')}`);
const session: fc.Arbitrary<Session> = fc.constantFrom(
  null,
  { userId: 'u_1', role: 'user' },
  { userId: 'u_2', role: 'admin' },
);

describe('astro-sessionkit 0.1.33 protect / globalProtect / exclude, decided by both packages', () => {
  it('ask-26c globalProtect, exclude /admin/help and an admin rule keep /admin/help admin-only, in both', async () => {
    const config: Options = {
      protect: [{ pattern: '/admin/**', role: 'admin' }],
      globalProtect: true,
      exclude: ['/admin/help', '/about'],
    };
    const cases: [string, Session, boolean][] = [
      ['/admin/help', null, false],
      ['/admin/help', { userId: 'u_1', role: 'user' }, false],
      ['/admin/help', { userId: 'u_2', role: 'admin' }, true],
      ['/about', null, true],
      ['/blog', null, false],
      ['/login', null, true],
    ];
    for (const [where, who, expected] of cases) {
      expect(await allowedBy033(config, where, who), `0.1.33 ${where} ${JSON.stringify(who)}`).toBe(expected);
      expect(await allowedBySessionkit(config, where, who), `sessionkit ${where} ${JSON.stringify(who)}`).toBe(
        expected,
      );
    }
  });

  it('ask-26b sessionkit never allows what 0.1.33 refused, and decides the same wherever one rule at most matches', async () => {
    await fc.assert(
      fc.asyncProperty(options, path, session, async (config, where, who) => {
        // Documented difference: 0.1.33 redirected a signed-in visit to the login page to `/`.
        fc.pre(!(config.globalProtect && where === loginPath && who !== null));
        const before = await allowedBy033(config, where, who);
        const after = await allowedBySessionkit(config, where, who);
        if (after) expect(before, 'sessionkit let through what 0.1.33 refused').toBe(true);
        if (matchingRules(config, where) <= 1) expect(after).toBe(before);
      }),
      { numRuns: 1500 },
    );
  });
});
