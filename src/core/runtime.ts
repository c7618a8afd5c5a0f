/**
 * Runtime capabilities. The core runs on WebCrypto everywhere; on Node.js (and runtimes
 * exposing `process.getBuiltinModule`, Cloudflare Workers aside) it takes a synchronous
 * `node:crypto` fast path.
 * Nothing here imports `node:crypto` statically, so edge bundles never see it.
 *
 * @module
 */

/** The subset of `node:crypto` the fast paths use. */
export interface NodeCryptoSubset {
  hkdfSync(digest: 'sha256', ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): ArrayBuffer;
  createSecretKey(key: Uint8Array): NodeKeyObject;
  createCipheriv(
    algorithm: 'aes-256-gcm',
    key: NodeKeyObject,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): NodeCipher;
  createDecipheriv(
    algorithm: 'aes-256-gcm',
    key: NodeKeyObject,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): NodeDecipher;
  createHmac(algorithm: 'sha256', key: NodeKeyObject): { update(data: Uint8Array): { digest(): Uint8Array } };
  createHash(algorithm: 'sha256'): { update(data: Uint8Array | string): { digest(): Uint8Array } };
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  randomFillSync<T extends Uint8Array>(buffer: T): T;
}

/** An opaque `node:crypto` KeyObject. */
export interface NodeKeyObject {
  readonly type: 'secret';
}

interface NodeCipher {
  setAAD(aad: Uint8Array): void;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  getAuthTag(): Uint8Array;
}

interface NodeDecipher {
  setAAD(aad: Uint8Array): void;
  setAuthTag(tag: Uint8Array): void;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}

type GetBuiltinModule = (id: string) => unknown;

function loadNodeCrypto(): NodeCryptoSubset | undefined {
  const processLike = (globalThis as { process?: { getBuiltinModule?: GetBuiltinModule } }).process;
  if (typeof processLike?.getBuiltinModule !== 'function') return undefined;
  const module = processLike.getBuiltinModule('node:crypto') as NodeCryptoSubset | undefined;
  return typeof module?.createCipheriv === 'function' && typeof module.hkdfSync === 'function' ? module : undefined;
}

/** `node:crypto` when the runtime offers it synchronously, otherwise `undefined`. */
export const nodeCrypto: NodeCryptoSubset | undefined = loadNodeCrypto();

/**
 * True on Cloudflare Workers (workerd), which names itself in `navigator.userAgent`. workerd
 * offers `node:crypto` (through `process.getBuiltinModule`, even without `nodejs_compat` since
 * its 2026 compatibility dates), but its WebCrypto is the faster engine there: the cookie
 * operation measured 1.27-1.50x slower on workerd's `node:crypto`.
 */
export const isWorkerd: boolean =
  (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent === 'Cloudflare-Workers';

/** A source of cryptographically secure random bytes (injectable for tests). */
export type RandomBytes = (length: number) => Uint8Array;

const poolSize = 4096;
let pool = new Uint8Array(0);
let poolOffset = 0;

/**
 * The default {@link RandomBytes}: WebCrypto's `getRandomValues`, drawn in 4 KiB batches.
 * One batch serves hundreds of IVs and ids; each byte is handed out once, and a spent batch is
 * replaced by a new buffer (never refilled in place), so returned views stay valid.
 */
export const secureRandomBytes: RandomBytes = (length) => {
  if (length > poolSize / 4) return crypto.getRandomValues(new Uint8Array(length));
  if (poolOffset + length > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(poolSize));
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + length);
  poolOffset += length;
  return bytes;
};

/** The current time in milliseconds (injectable for tests). */
export type Clock = () => number;

/** The default {@link Clock}: `Date.now`. */
export const systemClock: Clock = () => Date.now();
