import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analysedLength, estimateSecretStrength } from './secret-strength.ts';

describe('estimateSecretStrength', () => {
  it('counts capacity by alphabet: hex 4 bits, base64 6 (padding free), printable log2(95), bytes 8', () => {
    expect(estimateSecretStrength('0a'.repeat(32)).capacityBits).toBe(256);
    expect(estimateSecretStrength(`${'Ab9_'.repeat(10)}xyz`).capacityBits).toBe(258);
    expect(estimateSecretStrength(`${'Ab9+'.repeat(10)}xy==`).capacityBits).toBe(252);
    expect(estimateSecretStrength('a b!').capacityBits).toBeCloseTo(4 * Math.log2(95));
    expect(estimateSecretStrength(new Uint8Array([0, 200, 7])).capacityBits).toBe(24);
    // Dashes between hex digits are structure, not data: a UUID holds about 137 bits.
    expect(estimateSecretStrength('f47ac10b-58cc-4372-a567-0e02b2c3d479').capacityBits).toBeCloseTo(
      128 + 4 * Math.log2(5),
    );
  });

  it('prices runs, keyboard lines, repeats and words far below their capacity, and names the pattern', () => {
    const cases: [string, string, number][] = [
      ['abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 'sequence', 40],
      ['0123456789abcdef'.repeat(4), 'repeat', 30],
      ['qwertyuiopasdfghjklzxcvbnm1234567890QWERTYUIOPASDFGHJKL', 'keyboard', 80],
      ['correct horse battery staple is my favourite secret ever', 'words', 185],
      ['f47ac10b-58cc-4372-a567-0e02b2c3d479'.repeat(2), 'repeat', 150],
    ];
    for (const [secret, pattern, atMost] of cases) {
      const strength = estimateSecretStrength(secret);
      expect(strength.pattern, secret).toBe(pattern);
      expect(strength.estimatedBits, secret).toBeLessThan(atMost);
      expect(strength.capacityBits, secret).toBeGreaterThanOrEqual(256);
    }
  });

  it('prices common words by rank: frequent words cost less than rare ones, and case costs a bit', () => {
    const common = estimateSecretStrength('the the').estimatedBits;
    expect(estimateSecretStrength('secret').estimatedBits).toBeLessThan(3);
    expect(estimateSecretStrength('Secret').estimatedBits).toBeLessThan(4);
    expect(estimateSecretStrength('SECRET').estimatedBits).toBeGreaterThan(
      estimateSecretStrength('secret').estimatedBits,
    );
    expect(estimateSecretStrength('horse').estimatedBits).toBeGreaterThan(estimateSecretStrength('ever').estimatedBits);
    expect(common).toBeLessThan(estimateSecretStrength('qzx vkj').estimatedBits);
  });

  it('finds nothing in random secrets beyond chance: the estimate stays near capacity', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url');
        const strength = estimateSecretStrength(text);
        expect(strength.capacityBits).toBe(258);
        expect(strength.estimatedBits).toBeGreaterThan(200);
      }),
      { numRuns: 2000 },
    );
  });

  it('never estimates more than capacity, and never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 })), (secret) => {
        const strength = estimateSecretStrength(secret);
        expect(strength.estimatedBits).toBeLessThanOrEqual(strength.capacityBits);
        expect(strength.estimatedBits).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 1000 },
    );
  });

  it(`looks for patterns in the first ${analysedLength} characters and counts the rest at capacity`, () => {
    const padding = 'a'.repeat(analysedLength);
    const tail = 'Zm9vYmFyYmF6cXV4cXV1eHh5enp5'; // 28 base64 characters: 168 bits
    const strength = estimateSecretStrength(padding + tail);
    expect(strength.estimatedBits).toBeGreaterThan(168);
    expect(strength.estimatedBits).toBeLessThan(168 + 30);
    expect(strength.pattern).toBe('repeat');
  });

  it('judges bytes that spell printable text as that text, other bytes as bytes', () => {
    const spelled = new TextEncoder().encode('correct horse battery staple is my favourite secret ever');
    expect(estimateSecretStrength(spelled)).toEqual(
      estimateSecretStrength('correct horse battery staple is my favourite secret ever'),
    );
    const counting = Uint8Array.from({ length: 64 }, (_, index) => index);
    expect(estimateSecretStrength(counting)).toMatchObject({ capacityBits: 512, pattern: 'sequence' });
    expect(estimateSecretStrength(counting).estimatedBits).toBeLessThan(20);
  });
});
