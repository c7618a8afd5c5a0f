/**
 * The server-side session store contract. A store is a small plain object (usually made by a
 * factory such as `redisStore({ client })`) that keeps {@link StoredSession} rows by id. The
 * store backend (`store-backend.ts`) turns the manager's records and change sets into these
 * calls; stores never see a cookie, a token secret or a clock policy.
 *
 * Every store passes the same conformance suite (`test/stores/conformance.ts`).
 *
 * @module
 */

/** Session metadata an app may attach for "your devices" pages. All optional, never secret. */
export interface SessionMetadata {
  /** The `User-Agent` the session was created (or last described) with; truncated to 256 chars. */
  readonly userAgent?: string | undefined;
  /** The client IP as the app sees it (e.g. Astro's `clientAddress`). */
  readonly ip?: string | undefined;
}

/** A session as a store keeps it. Data and flash values are JSON values. */
export interface StoredSession extends SessionMetadata {
  /** The session id: the public half of the cookie token. */
  readonly id: string;
  /** SHA-256 of the token's secret half, base64url. The secret itself is never stored. */
  readonly secretHash: string;
  /** The user the session belongs to (captured from the data at write time), if any. */
  readonly userId: string | undefined;
  /** When the session id was issued (epoch seconds). */
  readonly createdAt: number;
  /** When the session was last renewed or written (epoch seconds): "last seen", to the renewal throttle. */
  readonly renewedAt: number;
  /** When the row may be dropped (epoch seconds): the native TTL where the engine has one. */
  readonly expiresAt: number;
  /** Session data, one JSON value per key. */
  readonly data: Readonly<Record<string, unknown>>;
  /** Pending flash values, one JSON value per key. */
  readonly flash: Readonly<Record<string, unknown>>;
}

/** What `listByUser` returns: the session without its data, flash or secret hash. */
export interface StoredSessionInfo extends SessionMetadata {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly renewedAt: number;
  readonly expiresAt: number;
}

/**
 * A per-key change of one session, applied atomically by stores that declare
 * `capabilities.atomicPatch`: keys not named here keep whatever value they have in the store,
 * so concurrent requests that change different keys all survive.
 */
export interface SessionPatch {
  /** Data keys to set, with their new JSON values. */
  readonly setData: Readonly<Record<string, unknown>>;
  /** Data keys to remove. */
  readonly unsetData: readonly string[];
  /** Flash keys to set. */
  readonly setFlash: Readonly<Record<string, unknown>>;
  /** Flash keys to remove (consumed). */
  readonly unsetFlash: readonly string[];
  readonly renewedAt: number;
  readonly expiresAt: number;
  /** Present when the owner changed: the new user id, or `null` for none. */
  readonly userId?: string | null;
  /** The previous owner, when `userId` is present (for index maintenance). */
  readonly previousUserId?: string | undefined;
  /** The session's absolute deadline (epoch seconds), when `userId` is present (for index expiry). */
  readonly deadline?: number;
  /** Present when the app described the session again. */
  readonly metadata?: SessionMetadata;
}

/** Options of {@link SessionStore.create}. */
export interface CreateOptions {
  /**
   * The id this session replaces (`regenerate()`). The store creates the new row only if this
   * one still exists (a session revoked meanwhile is never resurrected), and removes this one
   * in the same transaction, or only once the new row is confirmed: a call that fails must
   * leave this session as it was, because the user keeps its cookie.
   */
  readonly replacing?: string;
  /** Upper bound of `expiresAt` over the session's life (its absolute timeout), for index expiry. */
  readonly deadline: number;
}

/** What a store can guarantee; the conformance suite asserts each claim. */
export interface StoreCapabilities {
  /** `patch` merges per key atomically across processes. False: last write wins per session between instances. */
  readonly atomicPatch: boolean;
  /** `listByUser` / `deleteByUser` are served by an index and are exact across processes. */
  readonly userIndex: boolean;
  /** The engine drops rows at `expiresAt` by itself (no sweeper needed). */
  readonly nativeTtl: boolean;
}

/**
 * Where server-side sessions live. All methods may reject when the engine is unreachable;
 * the store backend turns that into `ERR_STORE_UNAVAILABLE` (HTTP 503), never into a
 * rejected session.
 *
 * @example
 * ```ts
 * const store: SessionStore = memoryStore({ maxEntries: 10_000 });
 * const sessions = createSessionManager({ secrets: process.env.SESSION_SECRET!, store });
 * ```
 */
export interface SessionStore {
  /** A short name for logs and events (`memory`, `redis`, ...). */
  readonly name: string;
  /** What this store guarantees. */
  readonly capabilities: StoreCapabilities;
  /** Reads one session: a single round trip. `undefined` when absent. */
  get(id: string): Promise<StoredSession | undefined>;
  /** Creates (or replaces) a session. Returns false only when `options.replacing` no longer existed. */
  create(session: StoredSession, options: CreateOptions): Promise<boolean>;
  /** Applies a per-key patch. Returns false (and writes nothing) when the session does not exist. */
  patch(id: string, patch: SessionPatch): Promise<boolean>;
  /** Deletes one session. Returns true when it existed. */
  delete(id: string): Promise<boolean>;
  /** The live sessions of a user, oldest first. */
  listByUser(userId: string, nowSeconds: number): Promise<StoredSessionInfo[]>;
  /** Deletes every session of a user except `exceptId`; returns the deleted ids. */
  deleteByUser(userId: string, exceptId?: string): Promise<string[]>;
  /** Drops expired rows now (stores without native TTL); returns how many. */
  sweep?(nowSeconds: number): Promise<number>;
  /**
   * Releases what the store itself holds: its timers and background work, and the connections
   * or files it opened itself. A client the app passed in (a pg Pool, a DatabaseSync, an
   * unstorage Storage) stays open: it is the app's to close. Calling it again does nothing;
   * calls made after it reject.
   */
  dispose?(): Promise<void>;
}

/**
 * Thrown by a store (or a store middleware such as `encryptStore`) whose row exists but cannot
 * be read with the configured keys. The session is rejected with `reason`, like a cookie.
 *
 * @example
 * ```ts
 * if (!opened.ok) throw new StoredSessionUnreadable('tampered');
 * ```
 */
export class StoredSessionUnreadable extends Error {
  /** Why the row could not be read. */
  readonly reason: 'unknown_key' | 'tampered';

  constructor(reason: 'unknown_key' | 'tampered') {
    super(`stored session could not be read: ${reason}`);
    this.name = 'StoredSessionUnreadable';
    this.reason = reason;
  }
}

/**
 * Thrown by {@link SessionStore.deleteByUser} when it failed part-way: the sessions in
 * `deletedIds` were deleted before the failure (`cause`); other sessions of the user may still
 * exist. Calling `deleteByUser` again is safe and deletes the rest.
 *
 * @example
 * ```ts
 * if (failure !== undefined) throw new StoredSessionsPartlyDeleted(deleted, failure);
 * ```
 */
export class StoredSessionsPartlyDeleted extends Error {
  /** The sessions deleted before the failure. */
  readonly deletedIds: readonly string[];

  constructor(deletedIds: readonly string[], cause: unknown) {
    super(
      `deleted ${deletedIds.length} session(s), then failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.name = 'StoredSessionsPartlyDeleted';
    this.deletedIds = deletedIds;
  }
}

/**
 * Keeps only non-empty string metadata, truncated (a user agent can be kilobytes).
 *
 * @example
 * ```ts
 * normalizeMetadata({ userAgent: '', ip: '203.0.113.9' }); // { ip: '203.0.113.9' }
 * ```
 */
export function normalizeMetadata(metadata: SessionMetadata | undefined): SessionMetadata {
  if (metadata === undefined) return {};
  const result: { userAgent?: string; ip?: string } = {};
  if (typeof metadata.userAgent === 'string' && metadata.userAgent !== '') {
    result.userAgent = metadata.userAgent.slice(0, 256);
  }
  if (typeof metadata.ip === 'string' && metadata.ip !== '') result.ip = metadata.ip.slice(0, 64);
  return result;
}

/**
 * Applies a patch to a plain record: the reference semantics every store must match (useful to
 * write a store over an engine without server-side merging).
 *
 * @example
 * ```ts
 * const next = applyPatch(current, patch); // unset keys removed, set keys replaced whole
 * ```
 */
export function applyPatch(session: StoredSession, patch: SessionPatch): StoredSession {
  const data = { ...session.data } as Record<string, unknown>;
  const flash = { ...session.flash } as Record<string, unknown>;
  for (const key of patch.unsetData) delete data[key];
  for (const key of Object.keys(patch.setData)) defineOwn(data, key, patch.setData[key]);
  for (const key of patch.unsetFlash) delete flash[key];
  for (const key of Object.keys(patch.setFlash)) defineOwn(flash, key, patch.setFlash[key]);
  const userId = patch.userId === undefined ? session.userId : (patch.userId ?? undefined);
  return {
    ...session,
    ...(patch.metadata === undefined ? {} : { userAgent: patch.metadata.userAgent, ip: patch.metadata.ip }),
    userId,
    renewedAt: patch.renewedAt,
    expiresAt: patch.expiresAt,
    data,
    flash,
  };
}

/**
 * Defines an own enumerable property (safe for a key named `__proto__`).
 *
 * @example
 * ```ts
 * defineOwn(data, '__proto__', value); // data, not a prototype change
 * ```
 */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The {@link StoredSessionInfo} view of a row (no data, flash or secret hash).
 *
 * @example
 * ```ts
 * const listed = rows.filter((row) => row.userId === userId).map(infoOf);
 * ```
 */
export function infoOf(session: StoredSession): StoredSessionInfo {
  return {
    id: session.id,
    userId: session.userId as string,
    createdAt: session.createdAt,
    renewedAt: session.renewedAt,
    expiresAt: session.expiresAt,
    ...(session.userAgent === undefined ? {} : { userAgent: session.userAgent }),
    ...(session.ip === undefined ? {} : { ip: session.ip }),
  };
}

/**
 * Parses JSON text into a plain object (`{}` for anything else); a `__proto__` key stays data.
 *
 * @example
 * ```ts
 * parseJsonObject('{"a":1}'); // { a: 1 }
 * ```
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  const parsed = JSON.parse(text) as unknown;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

/** True when `value` has the shape of a {@link SessionStore} (the methods the manager calls). */
export function isSessionStore(value: unknown): value is SessionStore {
  const store = value as SessionStore | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof store.get === 'function' &&
    typeof store.create === 'function' &&
    typeof store.patch === 'function' &&
    typeof store.delete === 'function'
  );
}
