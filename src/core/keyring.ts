/**
 * The key ring: one or more secrets, newest first. Subkeys are derived once per purpose
 * with HKDF-SHA256; every secret gets a 32-bit key id (also HKDF-derived) that travels
 * inside each token, so unsealing picks the right key directly and a token sealed under a
 * secret that is no longer configured is recognised as such ("unknown key"), not as tampering.
 *
 * @module
 */
import { engineFor } from './crypto-engine.ts';
import { checkSecrets, type SecretInput } from './secrets.ts';

/** One derived subkey of one secret. */
export interface DerivedKey {
  /** The 32-bit key id of the secret, as an unsigned integer. */
  readonly keyId: number;
  /** 32 bytes of subkey material for the requested purpose. */
  readonly material: Uint8Array;
}

/** Options of {@link createKeyRing}. */
export interface KeyRingOptions {
  /** Use WebCrypto even where `node:crypto` is available (for tests of the portable path). */
  forceWebCrypto?: boolean;
  /**
   * Where the secrets came from, named in errors (e.g. `SESSIONKIT_SECRET`). Default: the
   * `secrets` option. See {@link checkSecrets}.
   */
  source?: string | undefined;
}

/** A validated set of secrets from which purpose-bound subkeys are derived. */
export interface KeyRing {
  /** Number of secrets; index 0 is the newest and the one that seals. */
  readonly size: number;
  /** Subkeys for `purpose`, in ring order (newest first). Derived on first call and cached. */
  derive(purpose: string): Promise<readonly DerivedKey[]>;
}

const encoder = new TextEncoder();
const hkdfSalt = encoder.encode('sessionkit/hkdf-salt/v1');
const keyIdInfo = 'sessionkit/v1/key-id';

function readUint32(bytes: Uint8Array): number {
  return (
    (((bytes[0] as number) << 24) |
      ((bytes[1] as number) << 16) |
      ((bytes[2] as number) << 8) |
      (bytes[3] as number)) >>>
    0
  );
}

/** @internal Subkeys already derived, for rings from {@link createKeyRing} (see {@link derivedNow}). */
const derivedNowByRing = new WeakMap<KeyRing, (purpose: string) => readonly DerivedKey[] | undefined>();

/**
 * @internal The subkeys for `purpose` without waiting, when the ring derives synchronously
 * (`node:crypto`): sealers and CSRF tokens are then ready before the first request. `undefined`
 * for WebCrypto rings and for key rings not made by {@link createKeyRing}.
 */
export function derivedNow(ring: KeyRing, purpose: string): readonly DerivedKey[] | undefined {
  return derivedNowByRing.get(ring)?.(purpose);
}

/**
 * Validates secrets and prepares key derivation. The first secret seals; all of them unseal.
 * To rotate, put the new secret first and keep the old one until its cookies have expired.
 *
 * @param secrets - one secret or a list, newest first; each is checked by {@link checkSecrets}
 * @throws the error {@link checkSecrets} reports (`ERR_SECRET_WEAK` or `ERR_CONFIG_INVALID`), at construction
 *
 * @example
 * ```ts
 * const ring = createKeyRing([process.env.SESSION_SECRET_2026, process.env.SESSION_SECRET_2025]);
 * ```
 */
export function createKeyRing(secrets: SecretInput | readonly SecretInput[], options: KeyRingOptions = {}): KeyRing {
  const checked = checkSecrets(secrets, { source: options.source });
  if (!checked.ok) throw checked.error;
  const ikms = checked.secrets;
  const engine = engineFor(options.forceWebCrypto === true ? 'webcrypto' : 'auto');
  const hkdf = (ikm: Uint8Array, info: string, length: number) =>
    engine.hkdf(ikm, hkdfSalt, encoder.encode(info), length);
  const cache = new Map<string, readonly DerivedKey[] | Promise<readonly DerivedKey[]>>();
  const derive = (purpose: string): readonly DerivedKey[] | Promise<readonly DerivedKey[]> => {
    let keys = cache.get(purpose);
    if (keys === undefined) {
      const parts = ikms.map((ikm) => [hkdf(ikm, keyIdInfo, 4), hkdf(ikm, `sessionkit/v1/${purpose}`, 32)] as const);
      const assemble = (done: (readonly [Uint8Array, Uint8Array])[]): readonly DerivedKey[] =>
        done.map(([keyId, material]) => ({ keyId: readUint32(keyId), material }));
      keys = parts.every(([keyId, material]) => !(keyId instanceof Promise) && !(material instanceof Promise))
        ? assemble(parts as (readonly [Uint8Array, Uint8Array])[])
        : Promise.all(parts.map((part) => Promise.all(part))).then(assemble);
      cache.set(purpose, keys);
    }
    return keys;
  };
  const ring: KeyRing = {
    size: ikms.length,
    derive: async (purpose) => derive(purpose),
  };
  derivedNowByRing.set(ring, (purpose) => {
    const keys = derive(purpose);
    return keys instanceof Promise ? undefined : keys;
  });
  return ring;
}
