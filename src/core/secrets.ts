/**
 * Secret validation: a short, default or obviously non-random secret is a configuration
 * error at construction, never a warning at run time.
 *
 * @module
 */
import { SessionKitError } from './errors.ts';

/** A secret as the user provides it: a string (e.g. from an env var) or raw bytes. */
export type SecretInput = string | Uint8Array;

/** Minimum estimated entropy of a secret, in bits. */
export const minimumSecretBits = 256;

const knownWeakSecrets = new Set([
  'secret',
  'not-secret',
  'changeme',
  'change-me',
  'password',
  'keyboard cat',
  'your-secret-here',
  'super-secret',
  'supersecret',
]);

const hint =
  'Use at least 32 random bytes, e.g. `openssl rand -base64 32` or `node -e "console.log(crypto.randomBytes(32).toString(\'base64url\'))"`, and load it from an environment variable.';

/** Bits carried per character, judged from the smallest common alphabet the string fits. */
function bitsPerCharacter(secret: string): number {
  if (/^[0-9a-fA-F]+$/.test(secret)) return 4;
  if (/^[A-Za-z0-9+/=_-]+$/.test(secret)) return 6;
  return 6.5;
}

function countDistinct(values: Iterable<number | string>): number {
  return new Set(values).size;
}

/**
 * Validates one secret and returns its bytes (UTF-8 for strings).
 * Throws `ERR_SECRET_WEAK` when the secret cannot carry {@link minimumSecretBits} bits.
 *
 * @param secret - the secret to check
 * @param label - where it came from, for the message (never the secret itself)
 */
export function secretToBytes(secret: SecretInput, label: string): Uint8Array {
  if (typeof secret === 'string') {
    const trimmed = secret.trim();
    const estimatedBits = trimmed.length * bitsPerCharacter(trimmed);
    if (knownWeakSecrets.has(trimmed.toLowerCase())) {
      throw new SessionKitError('ERR_SECRET_WEAK', `${label} is a well-known placeholder secret.`, { hint });
    }
    if (estimatedBits < minimumSecretBits) {
      throw new SessionKitError(
        'ERR_SECRET_WEAK',
        `${label} is too short: about ${Math.floor(estimatedBits)} bits of entropy, ${minimumSecretBits} required.`,
        { hint },
      );
    }
    if (countDistinct(trimmed) < 12) {
      throw new SessionKitError('ERR_SECRET_WEAK', `${label} repeats too few characters to be random.`, { hint });
    }
    return new TextEncoder().encode(trimmed);
  }
  if (secret instanceof Uint8Array) {
    if (secret.byteLength < minimumSecretBits / 8) {
      throw new SessionKitError(
        'ERR_SECRET_WEAK',
        `${label} has ${secret.byteLength} bytes, ${minimumSecretBits / 8} required.`,
        { hint },
      );
    }
    if (countDistinct(secret) < 8) {
      throw new SessionKitError('ERR_SECRET_WEAK', `${label} repeats too few byte values to be random.`, { hint });
    }
    return new Uint8Array(secret);
  }
  throw new SessionKitError('ERR_CONFIG_INVALID', `${label} must be a string or a Uint8Array.`, { hint });
}
