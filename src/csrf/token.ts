/**
 * Session-bound CSRF tokens, format version 1:
 *
 * ```text
 * v1.<base64url( keyId[4] | issuedAt[4] | nonce[16] | HMAC-SHA256(subkey, keyId | issuedAt | nonce | sessionId)[32] )>
 * ```
 *
 * - `subkey` is the key ring's `csrf` subkey (HKDF, purpose-bound): a CSRF token is never a
 *   session cookie and the other way round.
 * - `keyId` names the secret that signed, so rotation works as for cookies: the newest secret
 *   signs, every configured secret verifies.
 * - `issuedAt` (seconds since the epoch, unsigned 32-bit) gives tokens a maximum age.
 * - `nonce` makes every issued token different, which is what BREACH-style compression
 *   attacks need: a page never repeats a secret the attacker could recover byte by byte.
 * - The session id is bound by the MAC but not carried: a token is valid for exactly one
 *   session and reveals nothing about it. A form shown before any session exists is bound to
 *   the anonymous CSRF cookie's id instead ({@link anonymousBinding}), under a prefix no session
 *   id can have, so neither kind of token passes for the other.
 *
 * Verification is stateless: one HMAC, compared in constant time.
 *
 * @module
 */
import type { CryptoEngine } from '../core/aead.ts';
import { decodeBase64Url, encodeBase64Url } from '../core/base64url.ts';
import { configError } from '../core/errors.ts';
import { type DerivedKey, derivedNow, type KeyRing } from '../core/keyring.ts';
import type { Clock, RandomBytes } from '../core/runtime.ts';
import { createMacKey, type MacKey, macLength } from './mac.ts';

/**
 * The version prefix of every CSRF token.
 *
 * @example
 * ```ts
 * token.startsWith(csrfTokenPrefix); // true for every token sessionkit issues
 * ```
 */
export const csrfTokenPrefix = 'v1.';

const keyIdLength = 4;
const issuedAtLength = 4;
const nonceLength = 16;
const headerLength = keyIdLength + issuedAtLength + nonceLength;
const tokenBytes = headerLength + macLength;
/**
 * The exact length of every v1 token, in characters (78).
 *
 * @example
 * ```ts
 * (await csrf.issueToken(session.id)).length === csrfTokenLength; // true
 * ```
 */
export const csrfTokenLength = csrfTokenPrefix.length + Math.ceil((tokenBytes * 4) / 3);
/**
 * @internal What a token for the anonymous CSRF cookie `anonymousId` is bound to, in place of a
 * session id. Session ids are base64url, which has no `:`: the two kinds of binding never meet.
 *
 * @example
 * ```ts
 * await codec.issue(anonymousBinding(anonymousId));
 * ```
 */
export function anonymousBinding(anonymousId: string): string {
  return `anonymous:${anonymousId}`;
}

/** Tokens dated this far in the future (seconds) are accepted, for clock skew between servers. */
const maxClockSkewSeconds = 60;

/**
 * Why a token did not verify. `verifyRequest()` reports all of them as `bad-token`.
 *
 * @example
 * ```ts
 * const check = await csrf.verifyToken(token, session.id);
 * if (!check.ok && check.reason === 'expired') reloadForm();
 * ```
 */
export type CsrfTokenFailure =
  /** Not a v1 token of the right length and alphabet. */
  | 'malformed'
  /** Signed under a secret that is not in the key ring (rotated out, or another app's). */
  | 'unknown_key'
  /** The MAC does not match: forged, modified, or issued for another session. */
  | 'invalid'
  /** Genuine, but older than the maximum age (or dated too far in the future). */
  | 'expired';

/**
 * The result of verifying a token.
 *
 * @example
 * ```ts
 * const check: CsrfTokenCheck = await csrf.verifyToken(token, session.id);
 * if (check.ok) console.log('issued at', new Date(check.issuedAt * 1000));
 * ```
 */
export type CsrfTokenCheck =
  | { readonly ok: true; readonly issuedAt: number }
  | { readonly ok: false; readonly reason: CsrfTokenFailure };

/** Issues and verifies tokens. Built by `createCsrfProtection()`; also usable alone. */
export interface CsrfTokenCodec {
  /** A fresh token bound to `sessionId`. Every call returns a different token. */
  issue(sessionId: string): Promise<string>;
  /**
   * The same, synchronously, when the keys are ready and the MAC engine is synchronous
   * (`node:crypto`); `undefined` otherwise (WebCrypto), in which case use {@link issue}.
   */
  issueSync(sessionId: string): string | undefined;
  /** True when {@link issueSync} returns tokens (keys ready, synchronous engine). */
  readonly synchronous: boolean;
  /** Checks a token against `sessionId`. Never throws on bad input. */
  verify(token: unknown, sessionId: unknown): Promise<CsrfTokenCheck>;
}

/** Options of {@link createCsrfTokenCodec}. */
export interface CsrfTokenCodecOptions {
  /** Maximum token age in seconds. */
  maxAgeSeconds: number;
  /** MAC engine (default `auto`). */
  cryptoEngine?: CryptoEngine;
  /** Clock in milliseconds. */
  now: Clock;
  /** Source of nonces. */
  randomBytes: RandomBytes;
}

interface PreparedKey {
  readonly keyId: number;
  readonly mac: MacKey;
  /** The MAC engine in use: `node` signs synchronously. */
  readonly engine: MacKey['engine'];
}

const encoder = new TextEncoder();

function prepare(keys: readonly DerivedKey[], engine: CryptoEngine): PreparedKey[] {
  return keys.map((key) => {
    const mac = createMacKey(key.material, engine);
    return { keyId: key.keyId, mac, engine: mac.engine };
  });
}

function macInput(header: Uint8Array, sessionId: string): Uint8Array {
  const id = encoder.encode(sessionId);
  const data = new Uint8Array(header.length + id.length);
  data.set(header, 0);
  data.set(id, header.length);
  return data;
}

/**
 * Creates the token codec for a key ring. Subkeys are derived and imported once.
 *
 * @example
 * ```ts
 * const codec = createCsrfTokenCodec(createKeyRing(secret), { maxAgeSeconds: 86400, now: Date.now, randomBytes });
 * const token = await codec.issue(session.id);
 * await codec.verify(token, session.id); // { ok: true, issuedAt }
 * ```
 */
export function createCsrfTokenCodec(keyRing: KeyRing, options: CsrfTokenCodecOptions): CsrfTokenCodec {
  const engine = options.cryptoEngine ?? 'auto';
  const { now, randomBytes, maxAgeSeconds } = options;
  // Keys ready now where the ring derives synchronously (node:crypto); otherwise on first use.
  const ready = derivedNow(keyRing, 'csrf');
  let prepared: PreparedKey[] | Promise<PreparedKey[]> =
    ready !== undefined
      ? prepare(ready, engine)
      : keyRing.derive('csrf').then((keys) => {
          prepared = prepare(keys, engine);
          return prepared;
        });
  const keys = (): PreparedKey[] | Promise<PreparedKey[]> => prepared;
  const nowSeconds = (): number => Math.floor(now() / 1000);

  const assertSessionId = (sessionId: unknown): void => {
    if (typeof sessionId !== 'string' || sessionId.length === 0) {
      throw configError(
        'A CSRF token needs a session id.',
        'Tokens are bound to a session: make sure a session (anonymous if need be) exists and is committed before issuing a token.',
      );
    }
  };
  const header = (newest: PreparedKey): Uint8Array => {
    const bytes = new Uint8Array(headerLength);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, newest.keyId);
    view.setUint32(keyIdLength, nowSeconds() >>> 0);
    bytes.set(randomBytes(nonceLength).subarray(0, nonceLength), keyIdLength + issuedAtLength);
    return bytes;
  };
  const encode = (head: Uint8Array, tag: Uint8Array): string => {
    const bytes = new Uint8Array(tokenBytes);
    bytes.set(head, 0);
    bytes.set(tag, headerLength);
    return csrfTokenPrefix + encodeBase64Url(bytes);
  };

  return {
    async issue(sessionId) {
      assertSessionId(sessionId);
      const newest = (await keys())[0] as PreparedKey;
      const head = header(newest);
      return encode(head, await newest.mac.sign(macInput(head, sessionId)));
    },

    get synchronous() {
      const ring = keys();
      return Array.isArray(ring) && (ring[0] as PreparedKey).engine === 'node';
    },

    issueSync(sessionId) {
      assertSessionId(sessionId);
      if (!this.synchronous) return undefined;
      const newest = (keys() as PreparedKey[])[0] as PreparedKey;
      const head = header(newest);
      return encode(head, newest.mac.sign(macInput(head, sessionId)) as Uint8Array);
    },

    async verify(token, sessionId) {
      if (typeof token !== 'string' || token.length !== csrfTokenLength || !token.startsWith(csrfTokenPrefix)) {
        return { ok: false, reason: 'malformed' };
      }
      const bytes = decodeBase64Url(token.slice(csrfTokenPrefix.length));
      if (bytes === undefined || bytes.length !== tokenBytes) return { ok: false, reason: 'malformed' };
      if (typeof sessionId !== 'string' || sessionId.length === 0) return { ok: false, reason: 'invalid' };
      const view = new DataView(bytes.buffer, bytes.byteOffset, headerLength);
      const keyId = view.getUint32(0);
      const issuedAt = view.getUint32(keyIdLength);
      const ring = await keys();
      const key = ring.find((candidate) => candidate.keyId === keyId);
      if (key === undefined) return { ok: false, reason: 'unknown_key' };
      const header = bytes.subarray(0, headerLength);
      const authentic = await key.mac.verify(macInput(header, sessionId), bytes.subarray(headerLength));
      if (!authentic) return { ok: false, reason: 'invalid' };
      const current = nowSeconds();
      if (issuedAt > current + maxClockSkewSeconds || current - issuedAt > maxAgeSeconds) {
        return { ok: false, reason: 'expired' };
      }
      return { ok: true, issuedAt };
    },
  };
}
