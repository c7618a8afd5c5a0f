import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePath } from '../guard/normalize.ts';
import { compileExempt, plainPath } from './exempt.ts';

const request = new Request('https://app.example/');

describe('plainPath', () => {
  it('decodes plain paths and drops a trailing slash', () => {
    expect(plainPath('/webhooks/stripe/')).toBe('/webhooks/stripe');
    expect(plainPath('/caf%C3%A9')).toBe('/café');
    expect(plainPath('/')).toBe('/');
  });

  it('refuses paths that could be routed somewhere else', () => {
    for (const path of [
      '',
      'webhooks',
      '/webhooks/..%2Faccount',
      '/webhooks/%2e%2e/account',
      '/webhooks%5caccount',
      '/webhooks/%252e%252e/x',
      '/webhooks/../account',
      '/webhooks/./x',
      '/webhooks\\..\\account',
      '//webhooks',
      '/%ZZ',
      `/${'a'.repeat(5000)}`,
    ]) {
      expect(plainPath(path), path).toBeUndefined();
    }
  });
});

describe('plainPath reads paths with the guard normaliser', () => {
  // Each of these was exempt-able before plainPath used the guard's normaliser, and the guard
  // reads it differently or refuses it: the stricter answer (not exempt, so checked) wins.
  it.each([
    ['/webhooks/stripe;x', 'the guard reads /webhooks/stripe (and a router the whole segment)'],
    ['/webhooks/a%3Bb', 'an encoded ; : two readings'],
    ['/webhooks%09', 'a decoded tab: the guard refuses control characters'],
    ['/x/%C2%85', 'a decoded C1 control character'],
    ['/cafe%CC%81', 'not NFC: the guard reads /café'],
  ])('refuses %j (%s)', (path) => {
    expect(plainPath(path)).toBeUndefined();
  });

  it('keeps refusing what only the old sanitiser refused: encoded dots and percents, doubled slashes', () => {
    for (const path of ['/hooks/a%2ejson', '/hooks/a%2Ejson', '/50%25-off', '//webhooks', '/webhooks//x']) {
      expect(plainPath(path), path).toBeUndefined();
    }
  });

  it('agrees with the guard on every path it accepts (property)', () => {
    const unit = fc.constantFrom(
      ...'/\\.;%aA5'.split(''),
      '%2F',
      '%2e',
      '%3B',
      '%25',
      '%61',
      '%C3%A9',
      'e%CC%81',
      '%09',
      '//',
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (text) => {
        const path = `/${text}`;
        const plain = plainPath(path);
        if (plain === undefined) return;
        // Case-sensitive, the guard reads exactly this path, one way only; by default, its case-folding.
        expect(normalizePath(path, { caseSensitive: true })).toEqual({
          ok: true,
          path: plain,
          segments: plain === '/' ? [] : plain.slice(1).split('/'),
          unsplitSegments: undefined,
        });
        expect(normalizePath(path)).toMatchObject({ ok: true, path: plain.toLowerCase() });
      }),
      { numRuns: 3000 },
    );
  });
});

describe('compileExempt', () => {
  it('matches exact paths and prefix/** patterns', () => {
    const isExempt = compileExempt(['/webhooks/**', '/api/ping', '/trailing/'], 'test');
    expect(isExempt('/webhooks', request)).toBe(true);
    expect(isExempt('/webhooks/', request)).toBe(true);
    expect(isExempt('/webhooks/stripe/events', request)).toBe(true);
    expect(isExempt('/webhooksx', request)).toBe(false);
    expect(isExempt('/api/ping', request)).toBe(true);
    expect(isExempt('/api/ping/', request)).toBe(true);
    expect(isExempt('/api/pings', request)).toBe(false);
    expect(isExempt('/API/ping', request)).toBe(false);
    expect(isExempt('/trailing', request)).toBe(true);
    // Not plain: checked, even under an exempt prefix.
    expect(isExempt('/webhooks/stripe;x', request)).toBe(false);
    expect(isExempt('/webhooks/%61', request)).toBe(true);
  });

  it('never exempts without an option, and gives predicates only plain paths', () => {
    expect(compileExempt(undefined, 'test')('/anything', request)).toBe(false);
    const seen: string[] = [];
    const isExempt = compileExempt((path) => {
      seen.push(path);
      return path.startsWith('/hooks/');
    }, 'test');
    expect(isExempt('/hooks/a', request)).toBe(true);
    expect(isExempt('/hooks/..%2Fadmin', request)).toBe(false);
    expect(seen).toEqual(['/hooks/a']);
  });
});
