/**
 * HMAC-SHA256 keys on the engine `core/crypto-engine.ts` picks: synchronous `node:crypto` with a
 * KeyObject made once, or WebCrypto. Verification is constant-time on both: `timingSafeEqual` on
 * Node, `crypto.subtle.verify` (which compares inside the engine) elsewhere. Nothing compares MAC
 * bytes in JavaScript, and the tests hold the engine to that.
 *
 * @module
 */
import { type CryptoEngine, engineFor, type MacKey } from '../core/crypto-engine.ts';

export { type MacKey, macLength } from '../core/crypto-engine.ts';

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
  return engineFor(engine).macKey(raw);
}
