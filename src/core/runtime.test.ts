import { describe, expect, it } from 'vitest';
import { secureRandomBytes } from './runtime.ts';

describe('secureRandomBytes', () => {
  it('never hands out the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    const views: Uint8Array[] = [];
    for (let index = 0; index < 2000; index++) {
      const bytes = secureRandomBytes(12);
      expect(bytes.length).toBe(12);
      views.push(bytes);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(seen.size).toBe(2000);
    // earlier views are not overwritten by later refills
    expect(new Set(views.map((bytes) => Buffer.from(bytes).toString('hex'))).size).toBe(2000);
  });

  it('serves large requests directly', () => {
    expect(secureRandomBytes(5000).length).toBe(5000);
  });
});
