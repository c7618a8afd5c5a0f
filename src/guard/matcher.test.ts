import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileMatcher, patternMatchesSlow } from './matcher.ts';
import { PARAM_SEGMENT } from './normalize.ts';
import { parsePattern } from './rules.ts';

const parse = (pattern: string) => parsePattern(pattern, false, 'test');
const split = (path: string) => path.split('/').filter(Boolean);

function matches(pattern: string, path: string): boolean {
  const matcher = compileMatcher([parse(pattern)]);
  const trie = matcher.collect(split(path), []).length > 0;
  expect(patternMatchesSlow(parse(pattern), split(path))).toBe(trie);
  return trie;
}

describe('pattern semantics', () => {
  it.each([
    // exact
    ['/admin', '/admin', true],
    ['/admin', '/admin/x', false],
    ['/admin', '/', false],
    ['/', '/', true],
    ['/', '/x', false],
    // trailing * : one or more segments below
    ['/admin/*', '/admin', false],
    ['/admin/*', '/admin/users', true],
    ['/admin/*', '/admin/users/123', true],
    ['/admin/*', '/administrator', false],
    ['/*', '/', false],
    ['/*', '/x/y', true],
    // trailing ** : zero or more
    ['/admin/**', '/admin', true],
    ['/admin/**', '/admin/x/y', true],
    ['/admin/**', '/adminx', false],
    ['/admin/**', '/', false],
    ['/**', '/', true],
    ['/**', '/a/b/c', true],
    // middle * and [param]: exactly one segment
    ['/org/*/settings', '/org/acme/settings', true],
    ['/org/*/settings', '/org/settings', false],
    ['/org/*/settings', '/org/a/b/settings', false],
    ['/org/*/settings', '/org/acme/settings/x', false],
    ['/org/[id]', '/org/acme', true],
    ['/org/[id]', '/org/acme/x', false],
    ['/org/[id]', '/org', false],
    // rest parameter = **
    ['/docs/[...slug]', '/docs', true],
    ['/docs/[...slug]', '/docs/a/b', true],
  ])('%s vs %s: %s', (pattern, path, expected) => {
    expect(matches(pattern, path)).toBe(expected);
  });

  it('placeholders (route parameters, ambiguous segments) match only wildcards', () => {
    const matcher = compileMatcher([parse('/admin/settings'), parse('/admin/*'), parse('/admin/[id]/edit')]);
    expect(matcher.collect(['admin', PARAM_SEGMENT], []).sort()).toEqual([1]);
    expect(matcher.collect(['admin', PARAM_SEGMENT, 'edit'], []).sort()).toEqual([1, 2]);
  });
});

describe('compiled trie', () => {
  const segment = fc.constantFrom('a', 'b', 'c', PARAM_SEGMENT);
  const pattern = fc
    .tuple(fc.array(fc.constantFrom('a', 'b', '*', '[id]'), { maxLength: 4 }), fc.constantFrom('', '/*', '/**'))
    .map(([parts, tail]) => {
      const text = parts.length === 0 ? '' : `/${parts.join('/')}`;
      return text === '' && tail === '' ? '/' : `${text}${tail}`;
    });

  it('agrees with the one-pattern-at-a-time reference on random rule sets and paths', () => {
    fc.assert(
      fc.property(
        fc.array(pattern, { minLength: 1, maxLength: 25 }),
        fc.array(fc.array(segment, { maxLength: 6 }), { minLength: 1, maxLength: 10 }),
        (patterns, paths) => {
          const parsed = patterns.map(parse);
          const matcher = compileMatcher(parsed);
          for (const path of paths) {
            const expected = parsed.flatMap((entry, index) => (patternMatchesSlow(entry, path) ? [index] : []));
            expect(matcher.collect(path, []).sort((a, b) => a - b)).toEqual(expected);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reports each matching pattern once, duplicates included', () => {
    const matcher = compileMatcher([parse('/a/**'), parse('/a/**'), parse('/a/*'), parse('/**')]);
    expect(matcher.collect(['a', 'b'], []).sort()).toEqual([0, 1, 2, 3]);
  });

  it('stops walking when no node is alive, whatever the path length', () => {
    const matcher = compileMatcher([parse('/a/b/c')]);
    const segments = Array.from({ length: 100_000 }, () => 'a');
    expect(matcher.collect(segments, [])).toEqual([]);
  });

  it('handles 10k-character adversarial patterns and paths correctly', () => {
    // Middle wildcards everywhere: the shape that makes glob-to-regex matchers backtrack.
    const deep = `/${Array.from({ length: 2500 }, (_, index) => (index % 2 ? '*' : 'a')).join('/')}/b`;
    const patterns = [parse(deep), parse(`/${'a/'.repeat(2500)}**`), parse('/**')];
    const matcher = compileMatcher(patterns);
    const nearMiss = Array.from({ length: 2501 }, () => 'a');
    expect(matcher.collect(nearMiss, []).sort()).toEqual([1, 2]);
    const hit = [...Array.from({ length: 2500 }, () => 'a'), 'b'];
    expect(matcher.collect(hit, []).sort()).toEqual([0, 1, 2]);
    expect(matcher.size).toBeGreaterThan(5000);
  });
});
