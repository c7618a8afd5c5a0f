import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url, isCanonicalBase64Url } from './base64url.ts';

describe('base64url', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        expect(isCanonicalBase64Url(text)).toBe(true);
        expect(decodeBase64Url(text)).toEqual(new Uint8Array(bytes));
      }),
    );
  });

  it('gives each byte string exactly one accepted spelling', () => {
    // Node's lenient decoder accepts all of these for [251, 255]; only the first is canonical.
    expect(decodeBase64Url('-_8')).toEqual(new Uint8Array([251, 255]));
    for (const variant of ['-_9', '-_8=', '+/8', '-_8\n', ' -_8', '-_.8', '-_%38']) {
      expect(decodeBase64Url(variant), variant).toBeUndefined();
    }
  });

  it('rejects impossible lengths and non-ASCII', () => {
    expect(decodeBase64Url('A')).toBeUndefined();
    expect(decodeBase64Url('AAAAA')).toBeUndefined();
    expect(decodeBase64Url('AAé')).toBeUndefined();
    expect(decodeBase64Url('')).toEqual(new Uint8Array());
  });

  it('never accepts a string that re-encodes differently', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (text) => {
        const bytes = decodeBase64Url(text);
        if (bytes !== undefined) expect(encodeBase64Url(bytes)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});
