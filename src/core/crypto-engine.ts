/**
 * @internal The one place that chooses between the two crypto engines: synchronous `node:crypto`
 * with KeyObjects made once (on Node about 3x cheaper per AES-GCM operation than WebCrypto, whose
 * calls hop to a worker thread), found at run time through `runtime.ts` (no static `node:`
 * import), or WebCrypto everywhere else, and on Cloudflare Workers, where workerd's WebCrypto is
 * faster than its `node:crypto`. Everything here may answer synchronously on `node`;
 * public APIs wrap it in promises, and only the request pipeline uses the synchronous answers.
 *
 * @module
 */
import { configError } from './errors.ts';
import { isWorkerd, type NodeCryptoSubset, type NodeKeyObject, nodeCrypto } from './runtime.ts';

/** Which engine to use: `auto` picks `node` when `node:crypto` is available, except on Cloudflare Workers. */
export type CryptoEngine = 'auto' | 'node' | 'webcrypto';

/** Length of the GCM nonce, in bytes. */
export const ivLength = 12;
/** Length of the GCM authentication tag, in bytes. */
export const tagLength = 16;
/** Length of an HMAC-SHA256 tag, in bytes. */
export const macLength = 32;

/** One AES-256-GCM key, imported once. `decrypt` answers `undefined` when authentication fails. */
export interface AeadKey {
  encrypt(iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array | Promise<Uint8Array>;
  decrypt(
    iv: Uint8Array,
    ciphertextAndTag: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/** One HMAC-SHA256 key, imported once. Verification is constant-time on both engines. */
export interface MacKey {
  /** The engine actually in use. */
  readonly engine: 'node' | 'webcrypto';
  /** The tag of `data`. */
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** True when `tag` is the tag of `data`, decided in constant time. */
  verify(data: Uint8Array, tag: Uint8Array): boolean | Promise<boolean>;
}

/** An engine: HKDF, AES-256-GCM and HMAC-SHA256 keys. */
export interface Engine {
  readonly kind: 'node' | 'webcrypto';
  /** HKDF-SHA256 of `ikm` with `salt` and `info`, `length` bytes. */
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array | Promise<Uint8Array>;
  aeadKey(raw: Uint8Array): AeadKey;
  macKey(raw: Uint8Array): MacKey;
}

function nodeEngine(node: NodeCryptoSubset): Engine {
  const aeadOptions = { authTagLength: tagLength };
  return {
    kind: 'node',
    hkdf: (ikm, salt, info, length) => new Uint8Array(node.hkdfSync('sha256', ikm, salt, info, length)),
    aeadKey(raw) {
      const key: NodeKeyObject = node.createSecretKey(raw);
      return {
        encrypt(iv, plaintext, aad) {
          const cipher = node.createCipheriv('aes-256-gcm', key, iv, aeadOptions);
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
          const decipher = node.createDecipheriv('aes-256-gcm', key, iv, aeadOptions);
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
    },
    macKey(raw) {
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
    },
  };
}

const webCryptoEngine: Engine = {
  kind: 'webcrypto',
  async hkdf(ikm, salt, info, length) {
    const base = await crypto.subtle.importKey('raw', ikm as Uint8Array<ArrayBuffer>, 'HKDF', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, info: info as Uint8Array<ArrayBuffer> },
      base,
      length * 8,
    );
    return new Uint8Array(bits);
  },
  aeadKey(raw) {
    const keyPromise = crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    const algorithm = (iv: Uint8Array, aad: Uint8Array) => ({
      name: 'AES-GCM',
      iv: iv as Uint8Array<ArrayBuffer>,
      additionalData: aad as Uint8Array<ArrayBuffer>,
      tagLength: 128,
    });
    return {
      async encrypt(iv, plaintext, aad) {
        return new Uint8Array(
          await crypto.subtle.encrypt(algorithm(iv, aad), await keyPromise, plaintext as Uint8Array<ArrayBuffer>),
        );
      },
      async decrypt(iv, ciphertextAndTag, aad) {
        if (ciphertextAndTag.length < tagLength) return undefined;
        try {
          return new Uint8Array(
            await crypto.subtle.decrypt(
              algorithm(iv, aad),
              await keyPromise,
              ciphertextAndTag as Uint8Array<ArrayBuffer>,
            ),
          );
        } catch {
          return undefined;
        }
      },
    };
  },
  macKey(raw) {
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
        // subtle.verify compares inside the engine, in constant time.
        return crypto.subtle.verify(
          'HMAC',
          await key(),
          tag as Uint8Array<ArrayBuffer>,
          data as Uint8Array<ArrayBuffer>,
        );
      },
    };
  },
};

const nodeEngineInstance = nodeCrypto === undefined ? undefined : nodeEngine(nodeCrypto);

/**
 * The engine for `choice`. `auto` is `node:crypto` where the runtime offers it, except on
 * Cloudflare Workers (see `isWorkerd`); `node` there still gets it.
 *
 * @throws `ERR_CONFIG_INVALID` when `node` is asked for where `node:crypto` is not available
 */
export function engineFor(choice: CryptoEngine = 'auto'): Engine {
  if (choice === 'webcrypto' || (choice === 'auto' && isWorkerd)) return webCryptoEngine;
  if (nodeEngineInstance !== undefined) return nodeEngineInstance;
  if (choice === 'node') {
    throw configError(
      'cryptoEngine "node" was requested but node:crypto is not available in this runtime.',
      'Use "auto" or "webcrypto".',
    );
  }
  return webCryptoEngine;
}
