/**
 * The store backend: server-side sessions behind the same manager as sealed cookies.
 *
 * The cookie carries only a token `<id>.<secret>`, each half 32 random bytes in base64url.
 * The store keeps the id and SHA-256 of the secret, compared in constant time on every read,
 * so a dump of the store is not a set of live cookies. A token is only ever minted here, at
 * creation and on `regenerate()`: a token the server never issued is rejected (`revoked`) and
 * never adopted.
 *
 * Writes are per-key patches built from the session's change tracking, so concurrent requests
 * of one session that change different keys all survive on stores with `atomicPatch`.
 *
 * @module
 */
import type { BackendReadResult, SessionBackend } from './backend.ts';
import { encodeBase64Url } from './base64url.ts';
import { isSessionKitError, SessionKitError } from './errors.ts';
import type { Reporter } from './events.ts';
import { type ExpiryPolicy, isLive } from './expiry.ts';
import { nodeCrypto, type RandomBytes } from './runtime.ts';
import type { AnySessionData, SessionChanges, SessionRecord } from './session.ts';
import {
  normalizeMetadata,
  type SessionMetadata,
  type SessionPatch,
  type SessionStore,
  type StoredSession,
  StoredSessionsPartlyDeleted,
  StoredSessionUnreadable,
} from './store.ts';

/** One session of a user, as listed by `manager.listSessions()`. Never contains a secret or data. */
export interface SessionInfo extends SessionMetadata {
  /** The session id (the public half of the token): pass it to `revokeSession()`. */
  readonly id: string;
  /** When the session was signed in / issued (epoch seconds). */
  readonly createdAt: number;
  /** Last activity, accurate to the renewal throttle (epoch seconds). */
  readonly lastSeenAt: number;
  /** When it expires unless renewed (epoch seconds). */
  readonly expiresAt: number;
}

/** What {@link createStoreBackend} needs from the manager. */
export interface StoreBackendContext {
  readonly expiry: ExpiryPolicy;
  readonly randomBytes: RandomBytes;
  readonly reporter: Reporter;
  /** The data key holding the user id (default `userId`). */
  readonly userIdKey: string;
}

/** The store backend: a {@link SessionBackend} plus the revocation operations. */
export interface StoreBackend<Data extends AnySessionData, Flash extends AnySessionData>
  extends SessionBackend<Data, Flash> {
  readonly kind: 'store';
  /** The wrapped store. */
  readonly store: SessionStore;
  /** Records metadata to write with the session: `explicit` ones are written at the next commit. */
  describe(record: SessionRecord<Data, Flash>, metadata: SessionMetadata, explicit: boolean): void;
  listSessions(userId: string, nowSeconds: number): Promise<SessionInfo[]>;
  revokeSession(sessionId: string): Promise<boolean>;
  revokeUserSessions(userId: string, exceptId: string | undefined): Promise<string[]>;
}

/**
 * @internal Thrown by `write` when the session was deleted (revoked, rotated or destroyed by
 * another request) while this request ran. The manager clears the cookie instead of failing.
 *
 * @example
 * ```ts
 * if (!(await store.patch(id, patch))) throw new SessionGoneError();
 * ```
 */
export class SessionGoneError extends Error {
  constructor() {
    super('the session was removed from the store while the request ran');
    this.name = 'SessionGoneError';
  }
}

interface StoreState {
  /** The id as persisted. */
  readonly id: string;
  /** The cookie value. */
  readonly token: string;
  readonly userId: string | undefined;
  /** JSON text of each flash value as loaded or last written, to compute flash patches. */
  readonly flash: ReadonlyMap<string, string>;
}

interface PendingMetadata {
  metadata: SessionMetadata;
  explicit: boolean;
}

// Two canonical base64url encodings of 32 bytes: 42 free characters, then one whose two low
// bits are zero (any other last character would decode to the same bytes as one of these).
const tokenPattern = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const tokenPartLength = 43;
const encoder = new TextEncoder();
const emptyFlash: ReadonlyMap<string, string> = new Map();

type OneShotHash = (algorithm: 'sha256', data: string, outputEncoding: 'base64url') => string;
const oneShotHash = (nodeCrypto as { hash?: OneShotHash } | undefined)?.hash;

/**
 * SHA-256 of the token's secret half (its base64url text, which spells exactly one 32-byte
 * value), as base64url. One-shot `crypto.hash` on Node, WebCrypto elsewhere.
 */
function hashSecret(secret: string): string | Promise<string> {
  if (oneShotHash !== undefined) return oneShotHash('sha256', secret, 'base64url');
  if (nodeCrypto !== undefined) return encodeBase64Url(nodeCrypto.createHash('sha256').update(secret).digest());
  return crypto.subtle
    .digest('SHA-256', encoder.encode(secret))
    .then((digest) => encodeBase64Url(new Uint8Array(digest)));
}

/** Constant-time equality of two digests (base64url text of 32 bytes). */
function digestsEqual(expected: unknown, actual: string): boolean {
  if (typeof expected !== 'string' || expected.length !== actual.length) return false;
  let difference = 0;
  for (let index = 0; index < actual.length; index++)
    difference |= expected.charCodeAt(index) ^ actual.charCodeAt(index);
  return difference === 0;
}

/**
 * Splits a store token into its id and secret halves, or `undefined` when it is not exactly two
 * canonical base64url encodings of 32 bytes joined by a dot.
 *
 * @example
 * ```ts
 * parseStoreToken('abc'); // undefined: rejected as malformed, no store round trip
 * ```
 */
export function parseStoreToken(token: string): { id: string; secret: string } | undefined {
  if (token.length !== tokenPartLength * 2 + 1 || !tokenPattern.test(token)) return undefined;
  return { id: token.slice(0, tokenPartLength), secret: token.slice(tokenPartLength + 1) };
}

function userIdOf(data: AnySessionData, key: string): string | undefined {
  if (!Object.hasOwn(data, key)) return undefined;
  const value = data[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function jsonOf(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

function snapshotFlash(flash: AnySessionData): ReadonlyMap<string, string> {
  const keys = Object.keys(flash);
  if (keys.length === 0) return emptyFlash;
  const snapshot = new Map<string, string>();
  for (const key of keys) snapshot.set(key, jsonOf(flash[key]));
  return snapshot;
}

function ownCopy(source: AnySessionData, keys: Iterable<string>): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  for (const key of keys) {
    Object.defineProperty(target, key, { value: source[key], writable: true, enumerable: true, configurable: true });
  }
  return target;
}

/**
 * Creates the store backend used by `createSessionManager({ store })`. Exposed for custom
 * managers; most apps never call it.
 *
 * @example
 * ```ts
 * const backend = createStoreBackend(memoryStore(), { expiry, randomBytes, reporter, userIdKey: 'userId' });
 * ```
 */
export function createStoreBackend<Data extends AnySessionData, Flash extends AnySessionData>(
  store: SessionStore,
  context: StoreBackendContext,
): StoreBackend<Data, Flash> {
  const { expiry, randomBytes, reporter, userIdKey } = context;
  const pending = new WeakMap<object, PendingMetadata>();

  const unavailable = (operation: string, error: unknown): unknown => {
    if (error instanceof StoredSessionUnreadable || isSessionKitError(error)) return error;
    reporter.log('error', 'session store unavailable', {
      store: store.name,
      operation,
      error: error instanceof Error ? error.message : String(error),
    });
    reporter.emit({ type: 'store.unavailable', operation });
    if (operation === 'deleteByUser') {
      const revokedSessionIds = error instanceof StoredSessionsPartlyDeleted ? error.deletedIds : [];
      return new SessionKitError(
        'ERR_STORE_UNAVAILABLE',
        `The session store "${store.name}" failed during deleteByUser, after revoking ${revokedSessionIds.length} session(s).`,
        {
          cause: error,
          hint: 'The sessions in error.revocation.revokedSessionIds are signed out; others of the user may still be live. Calling revokeUserSessions() again is safe and revokes the rest.',
          revocation: { revokedSessionIds, complete: false },
        },
      );
    }
    return new SessionKitError(
      'ERR_STORE_UNAVAILABLE',
      `The session store "${store.name}" failed during ${operation}.`,
      {
        cause: error,
        hint: 'The session cookie was kept; the request can be retried once the store is back (HTTP 503).',
      },
    );
  };
  /** Runs a store operation; any failure becomes `ERR_STORE_UNAVAILABLE` (one promise hop, no async frame). */
  const call = <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (error) {
      return Promise.reject(unavailable(operation, error));
    }
    return pending.then(undefined, (error: unknown) => {
      throw unavailable(operation, error);
    });
  };

  const newToken = async (id: string): Promise<{ token: string; secretHash: string }> => {
    const secret = encodeBase64Url(randomBytes(32));
    return { token: `${id}.${secret}`, secretHash: await hashSecret(secret) };
  };

  return {
    kind: 'store',
    store,

    async read(cookieValue): Promise<BackendReadResult<Data, Flash>> {
      const parsed = parseStoreToken(cookieValue);
      if (parsed === undefined) return { ok: false, reason: 'malformed' };
      const hashed = hashSecret(parsed.secret);
      let row: StoredSession | undefined;
      try {
        row = await call('get', () => store.get(parsed.id));
      } catch (error) {
        if (error instanceof StoredSessionUnreadable) return { ok: false, reason: error.reason };
        throw error;
      }
      const secretHash = typeof hashed === 'string' ? hashed : await hashed;
      if (row === undefined || !digestsEqual(row.secretHash, secretHash)) return { ok: false, reason: 'revoked' };
      const record: SessionRecord<Data, Flash> = {
        id: row.id,
        createdAt: row.createdAt,
        renewedAt: row.renewedAt,
        expiresAt: row.expiresAt,
        data: row.data as Data,
        flash: row.flash as Partial<Flash>,
      };
      const state: StoreState = {
        id: row.id,
        token: cookieValue,
        userId: row.userId,
        flash: snapshotFlash(row.flash as AnySessionData),
      };
      return { ok: true, record, reissue: false, state };
    },

    async write(record, changes: SessionChanges, state) {
      const previous = state as StoreState | undefined;
      const userId = userIdOf(record.data, userIdKey);
      const flash = record.flash as AnySessionData;
      const noted = pending.get(record);
      if (previous === undefined || changes.previousId !== undefined) {
        const { token, secretHash } = await newToken(record.id);
        const metadata = normalizeMetadata(noted?.metadata);
        const session: StoredSession = {
          id: record.id,
          secretHash,
          userId,
          createdAt: record.createdAt,
          renewedAt: record.renewedAt,
          expiresAt: record.expiresAt,
          data: ownCopy(record.data, Object.keys(record.data)),
          flash: ownCopy(flash, Object.keys(flash)),
          ...metadata,
        };
        const deadline = record.createdAt + expiry.absoluteTimeoutSeconds;
        const created = await call('create', () =>
          store.create(session, previous === undefined ? { deadline } : { deadline, replacing: previous.id }),
        );
        if (!created) throw new SessionGoneError();
        if (noted !== undefined) noted.explicit = false;
        return { cookieValue: token, state: { id: record.id, token, userId, flash: snapshotFlash(flash) } };
      }
      const setFlash: Record<string, unknown> = {};
      const unsetFlash: string[] = [];
      const nextFlash = new Map<string, string>();
      for (const key of Object.keys(flash)) {
        const json = jsonOf(flash[key]);
        nextFlash.set(key, json);
        if (previous.flash.get(key) !== json) {
          Object.defineProperty(setFlash, key, { value: flash[key], enumerable: true, configurable: true });
        }
      }
      for (const key of previous.flash.keys()) if (!nextFlash.has(key)) unsetFlash.push(key);
      const setKeys = [...changes.setKeys].filter((key) => Object.hasOwn(record.data, key));
      const patch: SessionPatch = {
        setData: ownCopy(record.data, setKeys),
        unsetData: [...changes.unsetKeys],
        setFlash,
        unsetFlash,
        renewedAt: record.renewedAt,
        expiresAt: record.expiresAt,
        ...(userId === previous.userId
          ? {}
          : {
              userId: userId ?? null,
              previousUserId: previous.userId,
              deadline: record.createdAt + expiry.absoluteTimeoutSeconds,
            }),
        ...(noted?.explicit ? { metadata: normalizeMetadata(noted.metadata) } : {}),
      };
      const patched = await call('patch', () => store.patch(previous.id, patch));
      if (!patched) throw new SessionGoneError();
      if (noted !== undefined) noted.explicit = false;
      return { cookieValue: previous.token, state: { ...previous, userId, flash: nextFlash } };
    },

    async remove(_record, state) {
      const previous = state as StoreState | undefined;
      if (previous !== undefined) await call('delete', () => store.delete(previous.id));
    },

    describe(record, metadata, explicit) {
      const current = pending.get(record);
      // What the app described wins; recorded defaults (the User-Agent) only fill what it left out.
      if (current?.explicit && !explicit) {
        pending.set(record, { metadata: { ...metadata, ...current.metadata }, explicit: true });
        return;
      }
      pending.set(record, { metadata: { ...current?.metadata, ...metadata }, explicit });
    },

    async listSessions(userId, nowSeconds) {
      const rows = await call('listByUser', () => store.listByUser(userId, nowSeconds));
      return rows
        .filter((row) => row.userId === userId && isLive(expiry, row, nowSeconds))
        .map((row) => ({
          id: row.id,
          createdAt: row.createdAt,
          lastSeenAt: row.renewedAt,
          expiresAt: row.expiresAt,
          ...(row.userAgent === undefined ? {} : { userAgent: row.userAgent }),
          ...(row.ip === undefined ? {} : { ip: row.ip }),
        }));
    },

    revokeSession: (sessionId) => call('delete', () => store.delete(sessionId)),

    revokeUserSessions: (userId, exceptId) => call('deleteByUser', () => store.deleteByUser(userId, exceptId)),
  };
}
