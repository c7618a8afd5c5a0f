import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessionKitError } from '../core/errors.ts';
import {
  createPathNormalizer,
  foldCase,
  type NormalizeResult,
  normalizePath,
  normalizeRoutePattern,
  PARAM_SEGMENT,
} from './normalize.ts';

function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function segmentsOf(result: NormalizeResult): readonly string[] {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}`);
  return result.segments;
}

describe('normalizePath', () => {
  it.each([
    ['/', '/', []],
    ['/admin', '/admin', ['admin']],
    ['/admin/', '/admin', ['admin']],
    ['//admin//users///', '/admin/users', ['admin', 'users']],
    ['/ADMIN/Users', '/admin/users', ['admin', 'users']],
    ['/%61dmin', '/admin', ['admin']],
    ['/%41DMIN', '/admin', ['admin']],
    ['/a%2Fb', '/a/b', ['a', 'b']],
    ['/a%5cb', '/a/b', ['a', 'b']],
    ['\\admin\\users', '/admin/users', ['admin', 'users']],
    ['/admin;jsessionid=1/users;x=y', '/admin/users', ['admin', 'users']],
    ['/;x/admin', '/admin', ['admin']],
    ['/caf%C3%A9', '/café', ['café']],
    ['/cafe\u0301', '/café', ['café']],
    ['/100%25', '/100%25', ['100%']],
    ['/a%20b', '/a b', ['a b']],
    ['/STRASSE/stra\u00dfe/STRA\u1e9eE', '/strasse/strasse/strasse', ['strasse', 'strasse', 'strasse']],
    // U+037E GREEK QUESTION MARK is canonically `;`: after NFC it starts matrix parameters too.
    ['/admin\u037ex/users', '/admin/users', ['admin', 'users']],
    ['/admin%CD%BEx', '/admin', ['admin']],
  ])('%s -> %s', (raw, path, segments) => {
    const result = normalizePath(raw);
    expect(result).toMatchObject({ ok: true, path, segments });
  });

  it.each([
    ['/%2561dmin', 'double-encoding'],
    ['/%252e%252e/admin', 'double-encoding'],
    ['/%25%36%31dmin', 'double-encoding'],
    ['/%', 'malformed-encoding'],
    ['/%zz', 'malformed-encoding'],
    ['/%C0%AE%C0%AE/admin', 'malformed-encoding'],
    ['/%E0%80%AF', 'malformed-encoding'],
    ['/%ED%A0%80', 'malformed-encoding'],
    ['/admin%00', 'control-character'],
    ['/admin\u0000', 'control-character'],
    ['/admin%09', 'control-character'],
    ['/admin%0d%0aSet-Cookie:x', 'control-character'],
    ['/admin\t', 'control-character'],
    ['/admin%7f', 'control-character'],
    ['/admin%C2%85', 'control-character'],
    ['/admin\u0085', 'control-character'],
    ['/admin\ud800', 'invalid-unicode'],
    ['/admin\udc00x', 'invalid-unicode'],
    ['admin', 'not-absolute'],
    ['', 'not-absolute'],
    ['%2Fadmin', 'not-absolute'],
    ['/./admin', 'dot-segment'],
    ['/public/../admin', 'dot-segment'],
    ['/admin/..', 'dot-segment'],
    ['/admin/..;x', 'dot-segment'],
    ['/..;/admin', 'dot-segment'],
    ['/admin%2F..', 'dot-segment'],
    ['/admin%2f%2e%2e', 'dot-segment'],
    ['/%2e%2e/admin', 'dot-segment'],
    ['/admin\\..', 'dot-segment'],
    ['/admin/.', 'dot-segment'],
  ])('%s fails with %s', (raw, reason) => {
    expect(normalizePath(raw)).toEqual({ ok: false, reason });
  });

  it('refuses over-long input without scanning it', () => {
    expect(normalizePath(`/${'a'.repeat(100_000)}`)).toEqual({ ok: false, reason: 'too-long' });
    expect(normalizePath(`/${'a'.repeat(99)}`, { maxLength: 100 }).ok).toBe(true);
    expect(normalizePath(`/${'a'.repeat(100)}`, { maxLength: 100 })).toEqual({ ok: false, reason: 'too-long' });
  });

  it('never throws on non-string input', () => {
    for (const value of [undefined, null, 42, {}, [], Symbol('x')]) {
      expect(normalizePath(value as unknown as string)).toEqual({ ok: false, reason: 'not-a-string' });
    }
  });

  it('is case-sensitive only when asked', () => {
    expect(segmentsOf(normalizePath('/Admin/%C3%89T%C3%89', { caseSensitive: true }))).toEqual(['Admin', 'ÉTÉ']);
    expect(segmentsOf(normalizePath('/Admin/%C3%89T%C3%89'))).toEqual(['admin', 'été']);
  });

  it('keeps look-alikes apart (NFC, not NFKC) without crashing', () => {
    expect(segmentsOf(normalizePath('/\uff41dmin'))).toEqual(['\uff41dmin']); // fullwidth a
    expect(segmentsOf(normalizePath('/\u0430dmin'))).toEqual(['\u0430dmin']); // Cyrillic a
    expect(segmentsOf(normalizePath('/admin\u200b'))).toEqual(['admin\u200b']); // zero-width space
    expect(segmentsOf(normalizePath('/\uff0e\uff0e/admin'))).toEqual(['\uff0e\uff0e', 'admin']); // fullwidth dots
    // The Kelvin sign case-folds to an ASCII k: more paths protected, never fewer.
    expect(segmentsOf(normalizePath('/\u212aiosk'))).toEqual(['kiosk']);
  });

  it('strips the base path, or fails outside it', () => {
    const normalize = createPathNormalizer({ base: '/Docs/' });
    expect(normalize('/docs/admin')).toMatchObject({ ok: true, path: '/admin', segments: ['admin'] });
    expect(normalize('/DOCS')).toMatchObject({ ok: true, path: '/', segments: [] });
    expect(normalize('/%64ocs/admin')).toMatchObject({ ok: true, path: '/admin' });
    expect(normalize('/docsx/admin')).toEqual({ ok: false, reason: 'outside-base' });
    expect(normalize('/admin')).toEqual({ ok: false, reason: 'outside-base' });
    expect(normalize('/docs;x/admin')).toEqual({ ok: false, reason: 'outside-base' });
  });

  it('gives the unsplit reading when a segment holds an encoded separator, a backslash or a ;', () => {
    expect(normalizePath('/repos/a%2Fb/settings')).toEqual({
      ok: true,
      path: '/repos/a/b/settings',
      segments: ['repos', 'a', 'b', 'settings'],
      unsplitSegments: ['repos', PARAM_SEGMENT, 'settings'],
    });
    expect(normalizePath('/admin;x')).toMatchObject({ unsplitSegments: [PARAM_SEGMENT] });
    expect(normalizePath('/%41dmin\\x/y%3By')).toMatchObject({
      segments: ['admin', 'x', 'y'],
      unsplitSegments: [PARAM_SEGMENT, PARAM_SEGMENT],
    });
    expect(normalizePath('/%41dmin/x')).toMatchObject({ unsplitSegments: undefined });
  });

  it('rejects invalid options', () => {
    const bad = [{ bsae: '/x' }, { base: 'docs' }, { base: '/../x' }, { caseSensitive: 'yes' }, { maxLength: 0 }];
    for (const options of bad) {
      expect(() => normalizePath('/', options as never)).toThrowError(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      );
    }
    try {
      createPathNormalizer({ bsae: '/x' } as never);
    } catch (error) {
      expect(isSessionKitError(error, 'ERR_CONFIG_INVALID')).toBe(true);
      expect((error as { hint?: string }).hint).toContain('"base"');
    }
  });
});

describe('normalizeRoutePattern', () => {
  it('turns dynamic segments into placeholders', () => {
    expect(normalizeRoutePattern('/Admin/[id]')).toEqual({
      ok: true,
      path: '/admin/[id]',
      segments: ['admin', PARAM_SEGMENT],
      unsplitSegments: undefined,
    });
    expect(segmentsOf(normalizeRoutePattern('/docs/[...slug]'))).toEqual(['docs', PARAM_SEGMENT]);
    expect(segmentsOf(normalizeRoutePattern('/[lang]-[version]/docs'))).toEqual([PARAM_SEGMENT, 'docs']);
    expect(segmentsOf(normalizeRoutePattern('/'))).toEqual([]);
  });

  it('does not decode and fails on hostile input', () => {
    expect(segmentsOf(normalizeRoutePattern('/%61dmin'))).toEqual(['%61dmin']);
    expect(normalizeRoutePattern('/a/../admin')).toEqual({ ok: false, reason: 'dot-segment' });
    expect(normalizeRoutePattern('/a\u0000')).toEqual({ ok: false, reason: 'control-character' });
    expect(normalizeRoutePattern('admin')).toEqual({ ok: false, reason: 'not-absolute' });
  });
});

describe('properties', () => {
  const pathChars = fc.constantFrom(
    ...'/\\.;%%%2fF5cC0aAeE9'.split(''),
    'a',
    'A',
    'é',
    'ß',
    'ẞ',
    'İ',
    '\u0301',
    '\u0000',
    '\t',
    ' ',
    '\ud800',
    '\u212a',
    '\uff0e',
    '\u037e',
    '\u1fef',
  );
  const hostilePath = fc.oneof(
    fc.string({ unit: pathChars, maxLength: 40 }).map((text) => `/${text}`),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => `/${text}`),
    fc.webPath(),
  );

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(hostilePath, fc.boolean(), (raw, caseSensitive) => {
        const result = normalizePath(raw, { caseSensitive });
        expect(typeof result.ok).toBe('boolean');
        normalizeRoutePattern(raw, { caseSensitive });
      }),
      { numRuns: 3000 },
    );
  });

  it('is idempotent: the output path normalises to itself', () => {
    fc.assert(
      fc.property(hostilePath, fc.boolean(), (raw, caseSensitive) => {
        const first = normalizePath(raw, { caseSensitive });
        if (!first.ok) return;
        const second = normalizePath(first.path, { caseSensitive });
        expect(second).toMatchObject({ ok: true, path: first.path, segments: first.segments });
      }),
      { numRuns: 3000 },
    );
  });

  it('outputs only canonical segments', () => {
    fc.assert(
      fc.property(hostilePath, (raw) => {
        const result = normalizePath(raw);
        if (!result.ok) return;
        expect(result.path.startsWith('/')).toBe(true);
        for (const segment of result.segments) {
          expect(segment).not.toBe('');
          expect(segment).not.toBe('.');
          expect(segment).not.toBe('..');
          expect([...segment].some((char) => '/\\;'.includes(char) || isControl(char))).toBe(false);
          expect(segment).not.toMatch(/%[0-9a-f]{2}/i);
          expect(segment).toBe(foldCase(segment));
          expect(segment).toBe(segment.normalize('NFC'));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('case folding is idempotent on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (text) => {
        expect(foldCase(foldCase(text))).toBe(foldCase(text));
      }),
      { numRuns: 3000 },
    );
  });
});
