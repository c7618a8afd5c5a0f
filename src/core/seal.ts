/**
 * The sealed token format, version 1:
 *
 * ```text
 * v1.<base64url( keyId[4] | iv[12] | AES-256-GCM(ciphertext | tag[16]) )>
 * ```
 *
 * The associated data binds the purpose and a context string (the cookie name), so a token
 * cut from one cookie cannot be pasted into another. Opening a token is one AES-GCM operation.
 *
 * @module
 */
import { type AeadKey, type CryptoEngine, createAeadKey, ivLength, tagLength } from './aead.ts';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';
import { engineFor } from './crypto-engine.ts';
import { type DerivedKey, derivedNow, type KeyRing } from './keyring.ts';
import { mapMaybe } from './maybe-promise.ts';
import { type RandomBytes, secureRandomBytes } from './runtime.ts';

/** The version prefix of every sealed token. */
export const sealPrefix = 'v1.';
const keyIdLength = 4;
const headerLength = keyIdLength + ivLength;

/** Why a token could not be opened. */
export type UnsealFailure =
  /** Not a v1 token: wrong prefix, non-canonical base64url, or too short. */
  | 'malformed'
  /** Well-formed, but sealed under a key id that is not in the ring (rotated out, or another app's secret). */
  | 'unknown_key'
  /** The key id is known but authentication failed: the token was modified or forged. */
  | 'tampered';

/** The result of {@link Sealer.unseal}. */
export type UnsealResult =
  | { readonly ok: true; readonly plaintext: Uint8Array; readonly keyIndex: number }
  | { readonly ok: false; readonly reason: UnsealFailure };

/** Seals and opens tokens for one purpose. */
export interface Sealer {
  /** Encrypts `plaintext` under the newest key, bound to `context`. */
  seal(plaintext: Uint8Array, context: string): Promise<string>;
  /** Opens a token sealed by any key in the ring for the same purpose and context. Never throws on bad input. */
  unseal(token: string, context: string): Promise<UnsealResult>;
  /**
   * @internal {@link Sealer.unseal} without waiting, where the engine answers synchronously
   * (`node:crypto`, keys ready); `undefined` where the caller must use `unseal`.
   */
  unsealNow(token: string, context: string): UnsealResult | undefined;
}

/** Options of {@link createSealer}. */
export interface SealerOptions {
  /** AES-GCM engine (default `auto`). */
  engine?: CryptoEngine;
  /** Source of IVs (default WebCrypto `getRandomValues`). */
  randomBytes?: RandomBytes;
}

interface PreparedKey {
  readonly keyId: number;
  readonly idBytes: Uint8Array;
  readonly aead: AeadKey;
}

function prepareKeys(keys: readonly DerivedKey[], engine: CryptoEngine): PreparedKey[] {
  return keys.map((key) => {
    const idBytes = new Uint8Array(keyIdLength);
    new DataView(idBytes.buffer).setUint32(0, key.keyId);
    return { keyId: key.keyId, idBytes, aead: createAeadKey(key.material, engine) };
  });
}

/**
 * Creates a {@link Sealer} for `purpose` from a key ring. Keys are imported once.
 *
 * @example
 * ```ts
 * const sealer = createSealer(createKeyRing(secret), 'cookie');
 * const token = await sealer.seal(new TextEncoder().encode('{"a":1}'), 'session');
 * const result = await sealer.unseal(token, 'session'); // { ok: true, plaintext, keyIndex: 0 }
 * ```
 */
export function createSealer(keyRing: KeyRing, purpose: string, options: SealerOptions = {}): Sealer {
  const engine = options.engine ?? 'auto';
  const synchronousEngine = engineFor(engine).kind === 'node';
  const randomBytes = options.randomBytes ?? secureRandomBytes;
  // Keys ready now where the ring derives synchronously (node:crypto); otherwise on first use.
  const ready = derivedNow(keyRing, purpose);
  let prepared: PreparedKey[] | Promise<PreparedKey[]> =
    ready !== undefined
      ? prepareKeys(ready, engine)
      : keyRing.derive(purpose).then((keys: readonly DerivedKey[]) => {
          prepared = prepareKeys(keys, engine);
          return prepared;
        });
  const encoder = new TextEncoder();
  const aadCache = new Map<string, Uint8Array>();
  const aadFor = (context: string): Uint8Array => {
    let aad = aadCache.get(context);
    if (aad === undefined) {
      aad = encoder.encode(`sessionkit/v1/${purpose}/${context}`);
      if (aadCache.size < 64) aadCache.set(context, aad);
    }
    return aad;
  };

  /** The token's bytes and key id, or why it is not a v1 token. */
  const parse = (
    token: string,
  ): { ok: true; bytes: Uint8Array; keyId: number } | { ok: false; reason: 'malformed' } => {
    if (typeof token !== 'string' || !token.startsWith(sealPrefix)) return { ok: false, reason: 'malformed' };
    const bytes = decodeBase64Url(token.slice(sealPrefix.length));
    if (bytes === undefined || bytes.length < headerLength + tagLength) return { ok: false, reason: 'malformed' };
    return { ok: true, bytes, keyId: new DataView(bytes.buffer, bytes.byteOffset, keyIdLength).getUint32(0) };
  };
  /** Opens parsed token bytes with the key `keyId`: synchronous on a synchronous engine. */
  const open = (
    keys: readonly PreparedKey[],
    keyId: number,
    bytes: Uint8Array,
    context: string,
  ): UnsealResult | Promise<UnsealResult> => {
    const keyIndex = keys.findIndex((key) => key.keyId === keyId);
    if (keyIndex === -1) return { ok: false, reason: 'unknown_key' };
    const decrypted = (keys[keyIndex] as PreparedKey).aead.decrypt(
      bytes.subarray(keyIdLength, headerLength),
      bytes.subarray(headerLength),
      aadFor(context),
    );
    return mapMaybe(
      decrypted,
      (plaintext): UnsealResult =>
        plaintext === undefined ? { ok: false, reason: 'tampered' } : { ok: true, plaintext, keyIndex },
    );
  };

  return {
    async seal(plaintext, context) {
      const keys = Array.isArray(prepared) ? prepared : await prepared;
      const newest = keys[0] as PreparedKey;
      const iv = randomBytes(ivLength);
      const body = await newest.aead.encrypt(iv, plaintext, aadFor(context));
      const bytes = new Uint8Array(headerLength + body.length);
      bytes.set(newest.idBytes, 0);
      bytes.set(iv, keyIdLength);
      bytes.set(body, headerLength);
      return sealPrefix + encodeBase64Url(bytes);
    },
    async unseal(token, context) {
      const header = parse(token);
      if (!header.ok) return header;
      const keys = Array.isArray(prepared) ? prepared : await prepared;
      return open(keys, header.keyId, header.bytes, context);
    },
    unsealNow(token, context) {
      if (!Array.isArray(prepared) || !synchronousEngine) return undefined;
      const header = parse(token);
      if (!header.ok) return header;
      const result = open(prepared, header.keyId, header.bytes, context);
      // The engine is synchronous, so `open` did not wait.
      return result as UnsealResult;
    },
  };
}
