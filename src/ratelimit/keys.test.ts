import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { createKeyRing } from '../core/keyring.ts';
import { createKeyHasher, normalizeAccount, normalizeAddress } from './keys.ts';

describe('normalizeAccount', () => {
  it('folds case, spacing and compatibility forms', () => {
    expect(normalizeAccount('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normalizeAccount('\uFF21da@example.com')).toBe('ada@example.com');
  });
});

describe('normalizeAddress', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, strips brackets and zones', () => {
    expect(normalizeAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeAddress('::FFFF:c000:0201')).toBe('192.0.2.1');
    expect(normalizeAddress('[2001:db8::1]')).toBe('2001:db8::/64');
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80::/64');
  });

  it('cuts IPv6 to the configured prefix', () => {
    expect(normalizeAddress('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(normalizeAddress('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64');
    expect(normalizeAddress('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1::/48');
    expect(normalizeAddress('2001:db8:1:2:3:4:5:6', 56)).toBe('2001:db8:1::/56');
    expect(normalizeAddress('2001:db8:1:1ff:3:4:5:6', 56)).toBe('2001:db8:1:100::/56');
    expect(normalizeAddress('2001:db8:1:2:3:4:5:6', 128)).toBe('2001:db8:1:2:3:4:5:6/128');
    expect(normalizeAddress('::1')).toBe('::/64');
  });

  it('leaves non-addresses as opaque lower-case strings, and never throws', () => {
    expect(normalizeAddress('Unknown')).toBe('unknown');
    expect(normalizeAddress('1.2.3.999')).toBe('1.2.3.999');
    expect(normalizeAddress('1:2:3:4:5:6:7:8:9')).toBe('1:2:3:4:5:6:7:8:9');
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        expect(typeof normalizeAddress(text)).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('createKeyHasher', () => {
  it('hashes (SHA-256 or HMAC) into 43 base64url characters, separating kinds', async () => {
    const plain = createKeyHasher();
    const keyed = createKeyHasher(createKeyRing(testSecrets[0]));
    const a = await plain('account', 'ada@example.com');
    expect(a).toMatch(/^[\w-]{43}$/);
    expect(await plain('address', 'ada@example.com')).not.toBe(a);
    expect(await keyed('account', 'ada@example.com')).not.toBe(a);
    expect(await keyed('account', 'ada@example.com')).toBe(await keyed('account', 'ada@example.com'));
  });
});
