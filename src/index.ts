/**
 * sessionkit: secure sessions for any Web `Request`/`Response` server.
 *
 * - {@link createCookieSessionStorage}: astro-session / Remix call shapes over sealed cookies.
 * - {@link createSessionManager}: the engine (cookie or store backend) the other layers use.
 * - Server-side stores live in subpaths: `sessionkit/stores/memory`, `/sqlite`, `/redis`,
 *   `/postgres`, `/unstorage`, and `sessionkit/stores/encrypt` for encryption at rest.
 * - {@link createKeyRing}, {@link createSealer}: the cryptographic core, for advanced use.
 *
 * @module
 */

export { default } from './astro/default-integration.ts';
export type { CryptoEngine } from './core/aead.ts';
export type { BackendReadResult, BackendWriteResult, SessionBackend } from './core/backend.ts';
export { decodeBase64Url, encodeBase64Url } from './core/base64url.ts';
export {
  type CookieSettings,
  defaultCookieName,
  type HostPrefixedCookieOptions,
  maxCookieBytes,
  type PlainCookieOptions,
  parseCookieHeader,
  type SecurePrefixedCookieOptions,
  type SessionCookieOptions,
} from './core/cookie.ts';
export {
  type CookieSessionStorage,
  type CookieSessionStorageOptions,
  createCookieSessionStorage,
  type StorageCookieOptions,
} from './core/cookie-storage.ts';
export {
  isSessionKitError,
  type PartialRevocation,
  SessionKitError,
  type SessionKitErrorCode,
} from './core/errors.ts';
export type { EventListener, LogFields, Logger, RejectReason, SessionEvent } from './core/events.ts';
export { defaultExpiry, type ExpiryOptions, type ExpiryPolicy } from './core/expiry.ts';
export { createKeyRing, type DerivedKey, type KeyRing, type KeyRingOptions } from './core/keyring.ts';
export {
  type BackendContext,
  type CommitOptions,
  createSessionManager,
  type LoadResult,
  type LoadStatus,
  type RevokeOptions,
  type RevokeSessionOptions,
  type SessionInput,
  type SessionManager,
  type SessionManagerOptions,
} from './core/manager.ts';
export type { Clock, RandomBytes } from './core/runtime.ts';
export type { InferSchemaOutput, StandardSchemaV1 } from './core/schema.ts';
export { createSealer, type Sealer, type SealerOptions, type UnsealFailure, type UnsealResult } from './core/seal.ts';
export { minimumSecretBits, type SecretInput } from './core/secrets.ts';
export type { SessionChanges, SessionData, SessionRecord, ValueOrUpdater } from './core/session.ts';
export { Session } from './core/session.ts';
export {
  type CreateOptions,
  type SessionMetadata,
  type SessionPatch,
  type SessionStore,
  type StoreCapabilities,
  type StoredSession,
  type StoredSessionInfo,
  StoredSessionsPartlyDeleted,
  StoredSessionUnreadable,
} from './core/store.ts';
export {
  createStoreBackend,
  type SessionInfo,
  type StoreBackend,
  type StoreBackendContext,
} from './core/store-backend.ts';
