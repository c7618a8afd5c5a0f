/**
 * AES-256-GCM with a 96-bit IV and a 128-bit tag: one operation each way, on the engine
 * `crypto-engine.ts` picks.
 *
 * @module
 */
import { type AeadKey, type CryptoEngine, engineFor } from './crypto-engine.ts';

export { type AeadKey, type CryptoEngine, ivLength, tagLength } from './crypto-engine.ts';

/**
 * Imports a 32-byte key into the chosen engine, once.
 *
 * @param raw - exactly 32 bytes of key material
 * @param engine - `auto` (default) uses `node:crypto` when the runtime offers it
 * @throws `ERR_CONFIG_INVALID` when `node` is requested but unavailable
 */
export function createAeadKey(raw: Uint8Array, engine: CryptoEngine = 'auto'): AeadKey {
  return engineFor(engine).aeadKey(raw);
}
