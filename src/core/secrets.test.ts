import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { createKeyRing } from './keyring.ts';
import { checkSecrets, minimumEstimatedSecretBits, minimumSecretBits } from './secrets.ts';

/** The predictable secrets of issue 15: each passed the old check. */
const predictableSecrets = {
  alphabet: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  'hex digits four times': '0123456789abcdef'.repeat(4),
  passphrase: 'correct horse battery staple is my favourite secret ever',
  'a repeated UUID': 'f47ac10b-58cc-4372-a567-0e02b2c3d479'.repeat(2),
  'keyboard rows': 'qwertyuiopasdfghjklzxcvbnm1234567890QWERTYUIOPASDFGHJKL',
} as const;

function errorOf(result: ReturnType<typeof checkSecrets>) {
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}

/** The message without the hint line that SessionKitError appends. */
function messageOf(result: ReturnType<typeof checkSecrets>): string {
  return errorOf(result).message.split('\nHint: ')[0] as string;
}

describe('checkSecrets', () => {
  it('accepts 256-bit random secrets in base64url, base64 and hex, and bytes', () => {
    const result = checkSecrets([
      testSecrets[0],
      'q8tP0x2k9mZ7Lr4vB1nC6yW3sD5fG8hJ0kM2nQ4rT6U=',
      'b47e0d0b5c9f3e28d21a6c1f07e4a9953f8b62d4c07a1e5b9d3f26c80a4e7b15',
      crypto.getRandomValues(new Uint8Array(32)),
    ]);
    expect(result.ok).toBe(true);
    expect(result.ok && result.secrets.map((secret) => secret.length)).toEqual([43, 44, 64, 32]);
  });

  it('accepts every random 32-byte secret, in hex, HEX, base64, base64url (with and without padding) and as bytes', () => {
    const encodings: ((bytes: Buffer) => string | Uint8Array)[] = [
      (bytes) => bytes.toString('hex'),
      (bytes) => bytes.toString('hex').toUpperCase(),
      (bytes) => bytes.toString('base64'),
      (bytes) => bytes.toString('base64').replace(/=+$/, ''),
      (bytes) => bytes.toString('base64url'),
      (bytes) => new Uint8Array(bytes),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 64 }), fc.nat(encodings.length - 1), (bytes, which) => {
        const secret = (encodings[which] as (bytes: Buffer) => string | Uint8Array)(Buffer.from(bytes));
        const result = checkSecrets(secret);
        expect(result.ok ? 'ok' : result.error.message).toBe('ok');
      }),
      { numRuns: 3000 },
    );
  });

  it.each(Object.entries(predictableSecrets))(
    'refuses a predictable secret (%s), which has room for 256 bits',
    (_label, secret) => {
      const result = checkSecrets(secret, { source: 'SESSIONKIT_SECRET' });
      const error = errorOf(result);
      expect(error.code).toBe('ERR_SECRET_WEAK');
      expect(messageOf(result)).toMatch(
        new RegExp(
          `^SESSIONKIT_SECRET is predictable: made largely of .+, it carries about \\d+ bits of entropy, ${minimumEstimatedSecretBits} required\\.$`,
        ),
      );
      expect(error.message).not.toContain(secret);
    },
  );

  it('names the kind of pattern', () => {
    const reasonOf = (secret: string) => messageOf(checkSecrets(secret));
    expect(reasonOf(predictableSecrets.alphabet)).toContain('runs of consecutive characters');
    expect(reasonOf(predictableSecrets['hex digits four times'])).toContain('repeated blocks');
    expect(reasonOf(predictableSecrets.passphrase)).toContain('common words');
    expect(reasonOf(predictableSecrets['keyboard rows'])).toContain('keyboard lines');
    // A hand-typed "random" hex string that repeats a 16-digit block (it was a fixture here).
    expect(reasonOf('8f1c2e7a9b3d4f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718')).toContain('repeated blocks');
  });

  it.each([
    ['too short', 'xyz-123', /^secrets is too short: 7 characters hold about 42 bits, 256 required\.$/],
    ['astro-session default', 'not-secret', /^secrets is a well-known placeholder secret\.$/],
    ['hex with only 128 bits', '8f1c2e7a9b3d4f60a1b2c3d4e5f60718', /too short: 32 characters hold about 128 bits/],
    ['repeated characters', 'a'.repeat(80), /predictable: made largely of repeated blocks/],
    ['low variety', 'xy'.repeat(30), /predictable: made largely of repeated blocks/],
  ])('refuses a weak secret (%s) with ERR_SECRET_WEAK', (_label, secret, message) => {
    const result = checkSecrets(secret);
    expect(errorOf(result).code).toBe('ERR_SECRET_WEAK');
    expect(messageOf(result)).toMatch(message);
  });

  it('refuses short, constant or counting bytes', () => {
    for (const bytes of [
      new Uint8Array(16).fill(7),
      new Uint8Array(64),
      Uint8Array.from({ length: 64 }, (_, index) => index),
    ]) {
      expect(errorOf(checkSecrets(bytes)).code).toBe('ERR_SECRET_WEAK');
    }
    // Bytes that are all printable ASCII are judged as the text they spell.
    const spelled = new TextEncoder().encode(predictableSecrets.passphrase);
    expect(messageOf(checkSecrets(spelled))).toContain('common words');
  });

  it('names the source: an environment variable, entries of a rotation list, or the option path', () => {
    const weak = predictableSecrets.alphabet;
    expect(errorOf(checkSecrets(weak, { source: 'SESSIONKIT_SECRET' })).message).toMatch(
      /^SESSIONKIT_SECRET is predictable/,
    );
    expect(errorOf(checkSecrets([testSecrets[0], weak], { source: 'SESSIONKIT_SECRET' })).message).toMatch(
      /^SESSIONKIT_SECRET \(secret 2 of 2, newest first\) is predictable/,
    );
    expect(errorOf(checkSecrets([testSecrets[0], weak])).message).toMatch(/^secrets\[1\] is predictable/);
    expect(errorOf(checkSecrets(weak)).message).toMatch(/^secrets is predictable/);
  });

  it('gives the fix: npx sessionkit secret, and where to put it', () => {
    const fromEnv = errorOf(checkSecrets('changeme', { source: 'SESSIONKIT_SECRET' }));
    expect(fromEnv.hint).toContain('npx sessionkit secret');
    expect(fromEnv.hint).toContain('set SESSIONKIT_SECRET to it');
    expect(errorOf(checkSecrets('changeme')).hint).toContain('load it from an environment variable');
  });

  it('reports a missing secret as not set, naming the source', () => {
    for (const input of [undefined, '', '  ', [], ['', ' ']]) {
      const result = checkSecrets(input as never, { source: 'SESSIONKIT_SECRET' });
      expect(errorOf(result).code).toBe('ERR_CONFIG_INVALID');
      expect(messageOf(result)).toBe('SESSIONKIT_SECRET is not set.');
      expect(errorOf(result).hint).toContain('npx sessionkit secret');
    }
    expect(messageOf(checkSecrets([]))).toBe('secrets is not set.');
  });

  it('reports non-string, non-bytes input and a secret listed twice as config errors', () => {
    expect(errorOf(checkSecrets(42 as never)).code).toBe('ERR_CONFIG_INVALID');
    expect(messageOf(checkSecrets(42 as never))).toBe('secrets must be a string or a Uint8Array.');
    const twice = checkSecrets([testSecrets[0], testSecrets[1], ` ${testSecrets[0]}`]);
    expect(errorOf(twice).code).toBe('ERR_CONFIG_INVALID');
    expect(messageOf(twice)).toBe('secrets[2] repeats secrets[0].');
  });

  it('never puts the secret in the message or the hint', () => {
    for (const secret of ['short-but-secret-value', ...Object.values(predictableSecrets)]) {
      const error = errorOf(checkSecrets(secret));
      expect(`${error.message} ${error.hint}`).not.toContain(secret);
    }
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.array(fc.oneof(fc.string(), fc.uint8Array()))), (input) => {
        const result = checkSecrets(input as never);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });

  it('is what createKeyRing enforces, with the same source naming', () => {
    expect(() => createKeyRing(predictableSecrets.passphrase, { source: 'SESSIONKIT_SECRET' })).toThrow(
      expect.objectContaining({
        code: 'ERR_SECRET_WEAK',
        message: expect.stringMatching(/^SESSIONKIT_SECRET is predictable/),
      }),
    );
    expect(() => createKeyRing([])).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringMatching(/^secrets is not set\./) }),
    );
    expect(createKeyRing([testSecrets[0], testSecrets[1]]).size).toBe(2);
  });

  it('states its two thresholds', () => {
    expect(minimumSecretBits).toBe(256);
    expect(minimumEstimatedSecretBits).toBe(192);
  });
});
