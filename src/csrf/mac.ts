/**
 * HMAC-SHA256 with two engines of one shape: synchronous `node:crypto` with a KeyObject made
 * once, or WebCrypto. Verification is constant-time on both: `timingSafeEqual` on Node,
 * `crypto.subtle.verify` (which compares inside the engine) elsewhere. Nothing in this file
 * compares MAC bytes in JavaScript, and the tests hold it to that.
 *
 * @module
 */
import type { CryptoEngine } from '../core/aead.ts';
import { configError } from '../core/errors.ts';
import { type NodeKeyObject, nodeCrypto } from '../core/runtime.ts';

/** Length of an HMAC-SHA256 tag, in bytes. */
export const macLength = 32;

/** One HMAC-SHA256 key, imported once. */
export interface MacKey {
  /** The engine actually in use. */
  readonly engine: 'node' | 'webcrypto';
  /** The tag of `data`. */
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** True when `tag` is the tag of `data`, decided in constant time. */
  verify(data: Uint8Array, tag: Uint8Array): boolean | Promise<boolean>;
}

function nodeMacKey(raw: Uint8Array): MacKey {
  const node = nodeCrypto!;
  const key: NodeKeyObject = node.createSecretKey(raw);
  const sign = (data: Uint8Array): Uint8Array => node.createHmac('sha256', key).update(data).digest();
  return {
    engine: 'node',
    sign,
    verify(data, tag) {
      // Lengths are public (fixed by the token format); timingSafeEqual requires equal lengths.
      if (tag.length !== macLength) return false;
      return node.timingSafeEqual(sign(data), tag);
    },
  };
}

function webMacKey(raw: Uint8Array): MacKey {
  let imported: Promise<CryptoKey> | undefined;
  const key = (): Promise<CryptoKey> => {
    imported ??= crypto.subtle.importKey(
      'raw',
      raw as Uint8Array<ArrayBuffer>,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    return imported;
  };
  return {
    engine: 'webcrypto',
    async sign(data) {
      return new Uint8Array(await crypto.subtle.sign('HMAC', await key(), data as Uint8Array<ArrayBuffer>));
    },
    async verify(data, tag) {
      if (tag.length !== macLength) return false;
      return crypto.subtle.verify('HMAC', await key(), tag as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
    },
  };
}

/**
 * Imports a key for HMAC-SHA256 in the chosen engine, once.
 *
 * @param raw - the key material (32 bytes from the key ring)
 * @param engine - `auto` (default) uses `node:crypto` when the runtime offers it
 * @throws `ERR_CONFIG_INVALID` when `node` is requested but unavailable
 *
 * @example
 * ```ts
 * const key = createMacKey(derived.material);
 * const tag = await key.sign(data);
 * await key.verify(data, tag); // true
 * ```
 */
export function createMacKey(raw: Uint8Array, engine: CryptoEngine = 'auto'): MacKey {
  const useNode = engine === 'node' || (engine === 'auto' && nodeCrypto !== undefined);
  if (useNode && nodeCrypto === undefined) {
    throw configError(
      'cryptoEngine "node" was requested but node:crypto is not available in this runtime.',
      'Use "auto" or "webcrypto".',
    );
  }
  return useNode ? nodeMacKey(raw) : webMacKey(raw);
}
