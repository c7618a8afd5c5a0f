import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawPathOf } from './guard.ts';

describe('rawPathOf', () => {
  it('keeps the path exactly as sent', () => {
    expect(rawPathOf('http://127.0.0.1:4321//admin?x=1#f')).toBe('//admin');
    expect(rawPathOf('https://example.com/%2561dmin')).toBe('/%2561dmin');
    expect(rawPathOf('http://example.com')).toBe('/');
    expect(rawPathOf('http://example.com?q=/x')).toBe('/');
  });

  it('agrees with URL#pathname on any URL the WHATWG parser leaves unchanged', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        const parsed = new URL(url);
        fc.pre(parsed.href === url);
        expect(rawPathOf(url)).toBe(parsed.pathname);
      }),
      { numRuns: 500 },
    );
  });
});
