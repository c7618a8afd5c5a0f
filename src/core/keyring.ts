/**
 * The key ring: one or more secrets, newest first. Subkeys are derived once per purpose
 * with HKDF-SHA256; every secret gets a 32-bit key id (also HKDF-derived) that travels
 * inside each token, so unsealing picks the right key directly and a token sealed under a
 * secret that is no longer configured is recognised as such ("unknown key"), not as tampering.
 *
 * @module
 */
import { nodeCrypto } from './runtime.ts';
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
  /**
   * Subkeys for `purpose`, in ring order (newest first). Derived on first call and cached:
   * synchronous on the `node:crypto` path, a promise on the WebCrypto path.
   */
  derive(purpose: string): readonly DerivedKey[] | Promise<readonly DerivedKey[]>;
}

const hkdfSalt = new TextEncoder().encode('sessionkit/hkdf-salt/v1');
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

function hkdfNode(ikm: Uint8Array, info: string, length: number): Uint8Array {
  return new Uint8Array(nodeCrypto!.hkdfSync('sha256', ikm, hkdfSalt, new TextEncoder().encode(info), length));
}

async function hkdfWebCrypto(ikm: Uint8Array, info: string, length: number): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey('raw', ikm as Uint8Array<ArrayBuffer>, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: hkdfSalt, info: new TextEncoder().encode(info) },
    base,
    length * 8,
  );
  return new Uint8Array(bits);
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
  const useNode = nodeCrypto !== undefined && options.forceWebCrypto !== true;
  const cache = new Map<string, readonly DerivedKey[] | Promise<readonly DerivedKey[]>>();
  const nodeKeyIds = useNode ? ikms.map((ikm) => readUint32(hkdfNode(ikm, keyIdInfo, 4))) : [];

  const deriveNode = (purpose: string): readonly DerivedKey[] =>
    ikms.map((ikm, index) => ({
      keyId: nodeKeyIds[index] as number,
      material: hkdfNode(ikm, `sessionkit/v1/${purpose}`, 32),
    }));
  const deriveWeb = (purpose: string): Promise<readonly DerivedKey[]> =>
    Promise.all(
      ikms.map(async (ikm) => ({
        keyId: readUint32(await hkdfWebCrypto(ikm, keyIdInfo, 4)),
        material: await hkdfWebCrypto(ikm, `sessionkit/v1/${purpose}`, 32),
      })),
    );

  return {
    size: ikms.length,
    derive(purpose) {
      let keys = cache.get(purpose);
      if (keys === undefined) {
        keys = useNode ? deriveNode(purpose) : deriveWeb(purpose);
        cache.set(purpose, keys);
      }
      return keys;
    },
  };
}
