import { describe, expect, it } from 'vitest';
import { isSessionKitError } from '../core/errors.ts';
import type { GuardRule } from '../guard/rules.ts';
import {
  anySignedInSession,
  globalProtectRules,
  legacyExpiry,
  type ShadowedExclusion,
  shadowedWarning,
} from './legacy-options.ts';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(isSessionKitError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('legacyExpiry (astro-sessionkit 0.1.33: sessionTtl, touchOnRequest)', () => {
  it('sessionTtl is the idle timeout, fixed from sign-in unless touchOnRequest', () => {
    expect(legacyExpiry({ sessionTtl: 3600 })).toEqual({ idleTimeoutSeconds: 3600, rolling: false });
    expect(legacyExpiry({ sessionTtl: 3600, touchOnRequest: true })).toEqual({
      idleTimeoutSeconds: 3600,
      renewAfterFraction: 0,
    });
    expect(legacyExpiry({ sessionTtl: 3600, touchOnRequest: false })).toEqual({
      idleTimeoutSeconds: 3600,
      rolling: false,
    });
  });

  it('touchOnRequest alone chooses the renewal; neither keeps the defaults', () => {
    expect(legacyExpiry({ touchOnRequest: true })).toEqual({ renewAfterFraction: 0 });
    expect(legacyExpiry({ touchOnRequest: false })).toEqual({ rolling: false });
    expect(legacyExpiry({})).toBeUndefined();
    expect(legacyExpiry({ expiry: { absoluteTimeoutSeconds: 60 } })).toEqual({ absoluteTimeoutSeconds: 60 });
  });

  it('a sessionTtl longer than the absolute timeout is refused, naming the fix', () => {
    expect(refusal(() => legacyExpiry({ sessionTtl: 30 * 86400 }))).toMatch(
      /sessionTtl \(2592000 s\) is longer than the absolute timeout \(604800 s, the default\)[\s\S]*absoluteTimeoutSeconds: 2592000/,
    );
    expect(legacyExpiry({ sessionTtl: 30 * 86400, expiry: { absoluteTimeoutSeconds: 30 * 86400 } })).toMatchObject({
      idleTimeoutSeconds: 30 * 86400,
    });
  });

  it('refuses malformed values and contradictions', () => {
    for (const sessionTtl of [0, -1, 1.5, Number.NaN, '3600']) {
      expect(refusal(() => legacyExpiry({ sessionTtl: sessionTtl as number }))).toMatch(/sessionTtl must be a whole/);
    }
    expect(refusal(() => legacyExpiry({ touchOnRequest: 'yes' as never }))).toMatch(/touchOnRequest must be true/);
    expect(refusal(() => legacyExpiry({ sessionTtl: 60, expiry: { idleTimeoutSeconds: 60 } }))).toMatch(
      /say the same thing/,
    );
    expect(refusal(() => legacyExpiry({ touchOnRequest: true, expiry: { renewAfterFraction: 0.5 } }))).toMatch(
      /contradicts/,
    );
    expect(refusal(() => legacyExpiry({ exclude: '/about' as never }))).toMatch(/exclude must be an array/);
  });
});

describe('globalProtectRules (astro-sessionkit 0.1.33: globalProtect, exclude)', () => {
  const protect: GuardRule[] = [
    { pattern: '/admin/**', role: 'admin' },
    { pattern: '/api/hooks/**', methods: ['POST'], permission: 'hooks' },
  ];

  it('nothing without globalProtect: true (0.1.33 ignored exclude then too)', () => {
    expect(globalProtectRules({ loginPath: '/login', exclude: ['/about'] }, protect, anySignedInSession)).toEqual({
      rules: [],
      shadowed: [],
    });
  });

  it('a signed-in rule on every path, the login page and each exclusion outside a protect rule public', () => {
    const { rules, shadowed } = globalProtectRules(
      { loginPath: '/signin?next=1', globalProtect: true, exclude: ['/about', '/public/**', '/api/hooks/github'] },
      protect,
      anySignedInSession,
    );
    expect(rules.map((rule) => [rule.pattern, rule.public === true])).toEqual([
      ['/**', false],
      ['/signin', true],
      ['/about', true],
      ['/public/**', true],
      // Covered by a POST-only rule: public for other methods, which that rule still protects.
      ['/api/hooks/github', true],
    ]);
    expect(shadowed).toEqual([]);
  });

  it('an exclusion inside a protect rule is left out: that rule keeps protecting it, as in 0.1.33', () => {
    const { rules, shadowed } = globalProtectRules(
      { loginPath: '/login', globalProtect: true, exclude: ['/about', '/admin/help', '/admin/**'] },
      protect,
      anySignedInSession,
    );
    expect(rules.map((rule) => rule.pattern)).toEqual(['/**', '/login', '/about']);
    expect(shadowed).toEqual<ShadowedExclusion[]>([
      { index: 1, pattern: '/admin/help', coveredBy: '/admin/**' },
      { index: 2, pattern: '/admin/**', coveredBy: '/admin/**' },
    ]);
    expect(shadowedWarning(shadowed[0] as ShadowedExclusion)).toBe(
      `exclude[1] ("/admin/help") lies inside the protect rule "/admin/**", which astro-sessionkit checked first, so the exclusion never applied there; it still does not: "/admin/help" stays protected by that rule. Remove it from exclude, or, to make it public, write { pattern: '/admin/help', public: true } in protect.`,
    );
  });

  it('refuses an invalid exclusion pattern, naming it', () => {
    expect(
      refusal(() => globalProtectRules({ loginPath: '/login', globalProtect: true, exclude: ['about'] }, [], {})),
    ).toMatch(/exclude\[0\]: pattern "about" must start with "\/"/);
  });
});
