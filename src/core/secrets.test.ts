import { describe, expect, it } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { secretToBytes } from './secrets.ts';

describe('secretToBytes', () => {
  it('accepts 256-bit random secrets in base64url, base64 and hex', () => {
    expect(secretToBytes(testSecrets[0], 's').length).toBe(43);
    expect(() => secretToBytes('q8tP0x2k9mZ7Lr4vB1nC6yW3sD5fG8hJ0kM2nQ4rT6U=', 's')).not.toThrow();
    expect(() => secretToBytes('8f1c2e7a9b3d4f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718', 's')).not.toThrow();
    expect(() => secretToBytes(crypto.getRandomValues(new Uint8Array(32)), 's')).not.toThrow();
  });

  it.each([
    ['too short', 'abc123'],
    ['astro-session default', 'not-secret'],
    ['hex with only 128 bits', '8f1c2e7a9b3d4f60a1b2c3d4e5f60718'],
    ['repeated characters', 'a'.repeat(80)],
    ['low variety', 'abababababababababababababababababababababababab'],
  ])('rejects a weak secret (%s) with ERR_SECRET_WEAK', (_label, secret) => {
    expect(() => secretToBytes(secret, 'secrets[0]')).toThrow(expect.objectContaining({ code: 'ERR_SECRET_WEAK' }));
  });

  it('rejects short or constant byte secrets', () => {
    expect(() => secretToBytes(new Uint8Array(16).fill(7), 's')).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_WEAK' }),
    );
    expect(() => secretToBytes(new Uint8Array(64), 's')).toThrow(expect.objectContaining({ code: 'ERR_SECRET_WEAK' }));
  });

  it('never puts the secret in the error message', () => {
    const secret = 'short-but-secret-value';
    try {
      secretToBytes(secret, 'secrets[0]');
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain(secret);
    }
  });

  it('rejects non-string, non-bytes input as a config error', () => {
    expect(() => secretToBytes(42 as never, 's')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });
});
