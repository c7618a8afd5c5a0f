/**
 * sessionkit: secure sessions and route protection for any Web `Request`/`Response` server.
 *
 * - {@link createSessionkit}: the request pipeline (sessions, route rules, CSRF); `sessionkit/hono`
 *   and `sessionkit/fetch` wrap it, the Astro integration (this module's default export, or
 *   `sessionkit/astro`) maps Astro onto it.
 * - {@link createSessionManager}: the session engine (sealed cookies, or a server-side store).
 * - {@link createCookieSessionStorage}: astro-session's and Remix's call shapes over sealed cookies.
 * - Helpers for the current request: `sessionkit/server`. Stores: `sessionkit/stores/*`. Route
 *   rules alone: `sessionkit/guard`. CSRF alone: `sessionkit/csrf`.
 *
 * @module
 */

export { default } from './astro/default-integration.ts';
export type { CryptoEngine } from './core/aead.ts';
export type { BackendReadResult, BackendWriteResult, SessionBackend } from './core/backend.ts';
export {
  type CookieSettings,
  defaultCookieName,
  type HostPrefixedCookieOptions,
  type PlainCookieOptions,
  type SecurePrefixedCookieOptions,
  type SessionCookieOptions,
} from './core/cookie.ts';
export type { CookieCacheOptions } from './core/cookie-cache.ts';
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
  type CookieSessionManager,
  createSessionManager,
  type LoadResult,
  type LoadStatus,
  type RevokeOptions,
  type RevokeSessionOptions,
  type SessionInput,
  type SessionManager,
  type SessionManagerOptions,
  type StoreSessionManager,
} from './core/manager.ts';
export type { Clock, RandomBytes } from './core/runtime.ts';
export type { InferSchemaOutput, StandardSchemaV1 } from './core/schema.ts';
export {
  checkSecrets,
  minimumEstimatedSecretBits,
  minimumSecretBits,
  type SecretCheckOptions,
  type SecretCheckResult,
  type SecretInput,
} from './core/secrets.ts';
export {
  type AnySessionData,
  type OptionalSessionDataKey,
  type SessionChanges,
  type SessionData,
  type SessionDataKey,
  type SessionFlashData,
  type SessionFlashKey,
  SessionHandle,
  type SessionkitTypes,
  type SessionRecord,
  type SessionValue,
} from './core/session.ts';
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
export type { SessionInfo } from './core/store-backend.ts';
export type { SessionkitCsrfOptions, SessionkitOptions } from './pipeline/options.ts';
export {
  createSessionkit,
  type HandleOptions,
  type RequestContext,
  type Sessionkit,
} from './pipeline/sessionkit.ts';
export type { RequestSessionState } from './pipeline/state.ts';
