/**
 * Secret validation: a missing, short, placeholder or predictable secret is a configuration
 * error, found by {@link checkSecrets} before any request (the key ring calls it at
 * construction; a server can call it once at start-up to report the problem, naming the
 * environment variable the secret came from).
 *
 * @module
 */
import { SessionKitError } from './errors.ts';
import { estimateSecretStrength, type PredictablePattern } from './secret-strength.ts';

/** A secret as the user provides it: a string (e.g. from an env var) or raw bytes. */
export type SecretInput = string | Uint8Array;

/** Minimum capacity of a secret, in bits: what its length and alphabet can hold (32 random bytes). */
export const minimumSecretBits = 256;

/**
 * Minimum estimated entropy of a secret, in bits, once its predictable parts (runs, keyboard
 * lines, repeated blocks, common words) are priced at what guessing them costs. Below
 * {@link minimumSecretBits} because a truly random secret also contains a few short patterns by
 * chance: over 300 000 random 32-byte secrets per encoding, chance patterns took at most
 * 39 bits (base64), 38 (hex, base64url) and 21 (raw bytes), leaving at least 217 bits.
 */
export const minimumEstimatedSecretBits = 192;

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

const patternNames: Record<PredictablePattern, string> = {
  sequence: 'runs of consecutive characters (like abcd or 6789)',
  keyboard: 'keyboard lines (like qwerty or 1qaz)',
  repeat: 'repeated blocks',
  words: 'common words',
};

/** Options of {@link checkSecrets}. */
export interface SecretCheckOptions {
  /**
   * Where the secrets came from, for messages: an environment variable name such as
   * `SESSIONKIT_SECRET`, or an option path. Default: the `secrets` option (`secrets[0]`, ...).
   */
  source?: string | undefined;
}

/** The result of {@link checkSecrets}. */
export type SecretCheckResult =
  | {
      readonly ok: true;
      /** The bytes of each secret (UTF-8 for strings, trimmed), in the order given. */
      readonly secrets: readonly Uint8Array[];
    }
  | {
      readonly ok: false;
      /**
       * `ERR_SECRET_WEAK` (short, placeholder or predictable) or `ERR_CONFIG_INVALID` (missing,
       * not a string or bytes, listed twice). Its message names the source and never contains
       * a secret; its hint says how to get a good one.
       */
      readonly error: SessionKitError;
    };

const fix = 'Generate one with `npx sessionkit secret` (32 random bytes, base64url) or `openssl rand -base64 32`';

function hintFor(source: string | undefined): string {
  return source === undefined
    ? `${fix}, and load it from an environment variable.`
    : `${fix}, and set ${source} to it.`;
}

/** Why one secret is refused, or its bytes. */
function checkOne(secret: unknown, label: string, hint: string): Uint8Array | SessionKitError {
  if (typeof secret === 'string') {
    const trimmed = secret.trim();
    if (trimmed === '') return new SessionKitError('ERR_CONFIG_INVALID', `${label} is empty.`, { hint });
    if (knownWeakSecrets.has(trimmed.toLowerCase())) {
      return new SessionKitError('ERR_SECRET_WEAK', `${label} is a well-known placeholder secret.`, { hint });
    }
    const weakness = weaknessOf(trimmed, label, `${trimmed.length} characters`, hint);
    return weakness ?? new TextEncoder().encode(trimmed);
  }
  if (secret instanceof Uint8Array) {
    const weakness = weaknessOf(secret, label, `${secret.byteLength} bytes`, hint);
    return weakness ?? new Uint8Array(secret);
  }
  return new SessionKitError('ERR_CONFIG_INVALID', `${label} must be a string or a Uint8Array.`, { hint });
}

function weaknessOf(
  secret: string | Uint8Array,
  label: string,
  size: string,
  hint: string,
): SessionKitError | undefined {
  const strength = estimateSecretStrength(secret);
  if (strength.capacityBits < minimumSecretBits) {
    return new SessionKitError(
      'ERR_SECRET_WEAK',
      `${label} is too short: ${size} hold about ${Math.floor(strength.capacityBits)} bits, ${minimumSecretBits} required.`,
      { hint },
    );
  }
  if (strength.estimatedBits < minimumEstimatedSecretBits) {
    const parts = strength.pattern === undefined ? 'its predictable parts' : patternNames[strength.pattern];
    return new SessionKitError(
      'ERR_SECRET_WEAK',
      `${label} is predictable: made largely of ${parts}, it carries about ${Math.floor(strength.estimatedBits)} bits of entropy, ${minimumEstimatedSecretBits} required.`,
      { hint },
    );
  }
  return undefined;
}

/**
 * Checks one secret or a list (newest first) and returns their bytes, or the first problem as
 * an error to report: missing, empty, too short (capacity under {@link minimumSecretBits}), a
 * known placeholder, predictable (estimated entropy under {@link minimumEstimatedSecretBits}:
 * runs, keyboard lines, repeated blocks, common words), not a string or bytes, or listed twice.
 * Never throws; messages name `source` and never contain a secret.
 *
 * @param input - the secret(s); `undefined` or an empty string or list means "not set"
 * @param options - where the secrets came from, for messages
 *
 * @example
 * ```ts
 * // Once at server start, so a bad secret is reported once, naming the variable:
 * const secrets = process.env.SESSIONKIT_SECRET?.split(',');
 * const checked = checkSecrets(secrets, { source: 'SESSIONKIT_SECRET' });
 * if (!checked.ok) logger.error(`${checked.error.message} ${checked.error.hint}`);
 * ```
 */
export function checkSecrets(
  input: SecretInput | readonly SecretInput[] | undefined,
  options: SecretCheckOptions = {},
): SecretCheckResult {
  const { source } = options;
  const hint = hintFor(source);
  const list: readonly unknown[] = Array.isArray(input) ? input : input === undefined ? [] : [input];
  const present =
    source === undefined ? list : list.filter((secret) => !(typeof secret === 'string' && secret.trim() === ''));
  if (present.length === 0) {
    return {
      ok: false,
      error: new SessionKitError('ERR_CONFIG_INVALID', `${source ?? 'secrets'} is not set.`, { hint }),
    };
  }
  const labelOf = (index: number): string => {
    if (source === undefined) return Array.isArray(input) ? `secrets[${index}]` : 'secrets';
    return present.length === 1 ? source : `${source} (secret ${index + 1} of ${present.length}, newest first)`;
  };
  const secrets: Uint8Array[] = [];
  for (const [index, secret] of present.entries()) {
    const checked = checkOne(secret, labelOf(index), hint);
    if (checked instanceof SessionKitError) return { ok: false, error: checked };
    const text = checked.join(',');
    const twin = secrets.findIndex((earlier) => earlier.join(',') === text);
    if (twin !== -1) {
      return {
        ok: false,
        error: new SessionKitError('ERR_CONFIG_INVALID', `${labelOf(index)} repeats ${labelOf(twin)}.`, {
          hint: 'List each secret once, newest first.',
        }),
      };
    }
    secrets.push(checked);
  }
  return { ok: true, secrets };
}
