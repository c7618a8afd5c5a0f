/**
 * AES-256-GCM with a 96-bit IV and a 128-bit tag: one operation each way.
 * Two engines with one shape: synchronous `node:crypto` with a KeyObject where available,
 * WebCrypto otherwise.
 *
 * @module
 */
import { configError } from './errors.ts';
import { type NodeKeyObject, nodeCrypto } from './runtime.ts';

/** Length of the GCM nonce, in bytes. */
export const ivLength = 12;
/** Length of the GCM authentication tag, in bytes. */
export const tagLength = 16;

/** One AES-256-GCM key. `decrypt` returns `undefined` when authentication fails. */
export interface AeadKey {
  encrypt(iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array | Promise<Uint8Array>;
  decrypt(
    iv: Uint8Array,
    ciphertextAndTag: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

function nodeAeadKey(raw: Uint8Array): AeadKey {
  const crypto = nodeCrypto!;
  const key: NodeKeyObject = crypto.createSecretKey(raw);
  const options = { authTagLength: tagLength };
  return {
    encrypt(iv, plaintext, aad) {
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, options);
      cipher.setAAD(aad);
      const body = cipher.update(plaintext);
      cipher.final();
      const tag = cipher.getAuthTag();
      const output = new Uint8Array(body.length + tagLength);
      output.set(body, 0);
      output.set(tag, body.length);
      return output;
    },
    decrypt(iv, ciphertextAndTag, aad) {
      if (ciphertextAndTag.length < tagLength) return undefined;
      const split = ciphertextAndTag.length - tagLength;
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, options);
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertextAndTag.subarray(split));
      const plaintext = decipher.update(ciphertextAndTag.subarray(0, split));
      try {
        decipher.final();
      } catch {
        return undefined;
      }
      return plaintext;
    },
  };
}

function webCryptoAeadKey(raw: Uint8Array): AeadKey {
  const keyPromise = crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  return {
    async encrypt(iv, plaintext, aad) {
      const algorithm = {
        name: 'AES-GCM',
        iv: iv as Uint8Array<ArrayBuffer>,
        additionalData: aad as Uint8Array<ArrayBuffer>,
        tagLength: 128,
      };
      return new Uint8Array(
        await crypto.subtle.encrypt(algorithm, await keyPromise, plaintext as Uint8Array<ArrayBuffer>),
      );
    },
    async decrypt(iv, ciphertextAndTag, aad) {
      if (ciphertextAndTag.length < tagLength) return undefined;
      const algorithm = {
        name: 'AES-GCM',
        iv: iv as Uint8Array<ArrayBuffer>,
        additionalData: aad as Uint8Array<ArrayBuffer>,
        tagLength: 128,
      };
      try {
        return new Uint8Array(
          await crypto.subtle.decrypt(algorithm, await keyPromise, ciphertextAndTag as Uint8Array<ArrayBuffer>),
        );
      } catch {
        return undefined;
      }
    },
  };
}

/** Which AES-GCM engine to use: `auto` picks `node` when available. */
export type CryptoEngine = 'auto' | 'node' | 'webcrypto';

/**
 * Imports a 32-byte key into the chosen engine, once.
 *
 * @param raw - exactly 32 bytes of key material
 * @param engine - `auto` (default) uses `node:crypto` when the runtime offers it
 */
export function createAeadKey(raw: Uint8Array, engine: CryptoEngine = 'auto'): AeadKey {
  const useNode = engine === 'node' || (engine === 'auto' && nodeCrypto !== undefined);
  if (useNode && nodeCrypto === undefined)
    throw configError(
      'cryptoEngine "node" was requested but node:crypto is not available in this runtime.',
      'Use "auto" or "webcrypto".',
    );
  return useNode ? nodeAeadKey(raw) : webCryptoAeadKey(raw);
}
