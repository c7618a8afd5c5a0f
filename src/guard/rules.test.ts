import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessionKitError } from '../core/errors.ts';
import { patternMatchesSlow } from './matcher.ts';
import { type ParsedPattern, parsePattern, patternCovers } from './rules.ts';

function expectConfigError(run: () => unknown, text?: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(isSessionKitError(thrown, 'ERR_CONFIG_INVALID'), `expected ERR_CONFIG_INVALID, got ${String(thrown)}`).toBe(
    true,
  );
  if (text !== undefined) expect(String((thrown as Error).message)).toContain(text);
}

const parse = (pattern: string, caseSensitive = false) => parsePattern(pattern, caseSensitive, 'test');

describe('parsePattern', () => {
  it.each([
    ['/', [], 'exact', '/'],
    ['/admin', ['admin'], 'exact', '/admin'],
    ['/Admin/Users', ['admin', 'users'], 'exact', '/admin/users'],
    ['/admin/*', ['admin'], 'plus', '/admin/*'],
    ['/admin/**', ['admin'], 'star', '/admin/**'],
    ['/*', [], 'plus', '/*'],
    ['/**', [], 'star', '/**'],
    ['/org/*/settings', ['org', null, 'settings'], 'exact', '/org/[param]/settings'],
    ['/org/[id]/settings', ['org', null, 'settings'], 'exact', '/org/[param]/settings'],
    ['/org/[id]', ['org', null], 'exact', '/org/[param]'],
    ['/docs/[...slug]', ['docs'], 'star', '/docs/**'],
    ["/a-b_c.d~!@,=&'", ["a-b_c.d~!@,=&'"], 'exact', "/a-b_c.d~!@,=&'"],
    ['/cafe\u0301', ['café'], 'exact', '/café'],
    ['/.well-known/x', ['.well-known', 'x'], 'exact', '/.well-known/x'],
  ])('%s', (pattern, tokens, tail, canonical) => {
    expect(parse(pattern)).toEqual({ tokens, tail, canonical });
  });

  it('keeps case when case-sensitive', () => {
    expect(parse('/Admin', true).tokens).toEqual(['Admin']);
  });

  it.each([
    ['', 'characters long'],
    ['admin', 'must start with "/"'],
    ['/admin/', 'empty segment'],
    ['//admin', 'empty segment'],
    ['/admin*', 'not allowed in a literal'],
    ['/*.js', 'not allowed in a literal'],
    ['/a/**/b', 'only allowed as the last segment'],
    ['/a/[...rest]/b', 'only allowed as the last segment'],
    ['/a/**x', 'not allowed in a literal'],
    ['/a/(x|y)', 'not allowed in a literal'],
    ['/a?', 'not allowed in a literal'],
    ['/a+', 'not allowed in a literal'],
    ['/^a$', 'not allowed in a literal'],
    ['/a{b}', 'not allowed in a literal'],
    ['/users/:id', 'would only match a literal'],
    ['/a/./b', 'contains a "." segment'],
    ['/a/../b', 'contains a ".." segment'],
    ['/a%2Fb', 'not allowed in a literal'],
    ['/a b', 'control or whitespace'],
    ['/a\u0000', 'control or whitespace'],
    ['/a\u0085', 'control or whitespace'],
    ['/a\ud800', 'lone surrogate'],
    ['/a;x', 'not allowed in a literal'],
    ['/a\u037ex', 'not allowed in a literal'],
    ['/a#x', 'not allowed in a literal'],
    ['/a\\b', 'not allowed in a literal'],
    ['/[id', 'not allowed in a literal'],
    ['/[]', 'not a parameter segment'],
    ['/[...]', 'not a parameter segment'],
    ['/[a b]', 'not a parameter segment'],
    ['/[id]x', 'not allowed in a literal'],
    [`/${'a'.repeat(17_000)}`, 'characters long'],
  ])('rejects %j', (pattern, text) => {
    expectConfigError(() => parse(pattern), text);
  });

  it('rejects non-strings', () => {
    for (const value of [undefined, null, 1, /admin/, ['/admin']]) expectConfigError(() => parse(value as never));
  });

  it('parses 10k-character patterns in linear time', () => {
    const pattern = `/${'ab/'.repeat(3300)}**`;
    expect(pattern.length).toBeGreaterThan(9900);
    expect(parse(pattern).tokens).toHaveLength(3300);
  });
});

/** Exhaustive inclusion check over every path that could tell the two patterns apart. */
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

const patternArbitrary = fc
  .tuple(
    fc.array(fc.constantFrom('a', 'b', '*', '[id]'), { maxLength: 3 }),
    fc.constantFrom('', '/*', '/**', '/[...rest]'),
  )
  .map(([parts, tail]) => {
    const text = parts.length === 0 ? '' : `/${parts.join('/')}`;
    return text === '' && tail === '' ? '/' : `${text}${tail}`;
  });

describe('patternCovers', () => {
  it.each([
    ['/admin/**', '/admin/help', true],
    ['/admin/**', '/admin', true],
    ['/admin/**', '/admin/*', true],
    ['/admin/*', '/admin/**', false],
    ['/admin/*', '/admin', false],
    ['/admin/*', '/admin/x/*', true],
    ['/**', '/admin/**', true],
    ['/*', '/', false],
    ['/org/*/settings', '/org/acme/settings', true],
    ['/org/acme/settings', '/org/*/settings', false],
    ['/admin', '/admin', true],
    ['/docs/[...rest]', '/docs/**', true],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(patternCovers(parse(outer), parse(inner))).toBe(expected);
  });

  it('agrees with exhaustive enumeration', () => {
    fc.assert(
      fc.property(patternArbitrary, patternArbitrary, (outer, inner) => {
        expect(patternCovers(parse(outer), parse(inner))).toBe(coversByEnumeration(parse(outer), parse(inner)));
      }),
      { numRuns: 1500 },
    );
  });
});
