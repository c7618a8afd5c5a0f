/**
 * The session manager: the engine under `createCookieSessionStorage`, the Astro integration
 * and the server-side stores. Construction validates every option, derives keys and fills
 * defaults once; a request then costs one cookie parse, one unseal (or store read) and, only
 * when something changed or renewal is due, one seal (or store write).
 *
 * @module
 */
import type { CryptoEngine } from './aead.ts';
import type { BackendReadResult, SessionBackend } from './backend.ts';
import { encodeBase64Url } from './base64url.ts';
import {
  type CookieSettings,
  maxCookieBytes,
  readSessionCookie,
  resolveCookieSettings,
  type SessionCookieOptions,
  serializeDeletions,
  serializeSessionCookie,
} from './cookie.ts';
import { type CookieCacheOptions, resolveCookieCacheMaxEntries } from './cookie-cache.ts';
import { configError, isSessionKitError } from './errors.ts';
import { createReporter, type RejectReason, type ReportingOptions } from './events.ts';
import {
  computeExpiresAt,
  type ExpiryOptions,
  type ExpiryPolicy,
  isRenewalDue,
  livenessOf,
  resolveExpiry,
  sessionWindowOf,
} from './expiry.ts';
import { createKeyRing, type KeyRing } from './keyring.ts';
import { type MaybePromise, mapMaybe, promiseOf } from './maybe-promise.ts';
import { assertOptionsObject } from './options.ts';
import { type Clock, type RandomBytes, secureRandomBytes, systemClock } from './runtime.ts';
import { isStandardSchema, type StandardSchemaV1, validateWithSchema } from './schema.ts';
import { createSealer } from './seal.ts';
import { createSealedBackend } from './sealed-backend.ts';
import type { SecretInput } from './secrets.ts';
import {
  type AnySessionData,
  defineValue,
  managerSlotOf,
  markSessionCommitted,
  SessionHandle,
  type SessionRecord,
  sessionChangesOf,
  sessionRecordOf,
  sessionWindowRestartOf,
  setManagerSlot,
} from './session.ts';
import { isSessionStore, type SessionMetadata, type SessionStore } from './store.ts';
import { createStoreBackend, SessionGoneError, type SessionInfo, type StoreBackend } from './store-backend.ts';

/** What a session can be loaded from: a request, its headers, a `Cookie` header value, or nothing. */
export type SessionInput = Request | Headers | string | null | undefined;

/** Options of {@link createSessionManager}. */
export interface SessionManagerOptions<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
  CookieName extends string = string,
> extends ReportingOptions {
  /** One secret or a list, newest first (>= 256 bits each). Or a key ring shared with CSRF. */
  secrets: SecretInput | readonly SecretInput[] | KeyRing;
  /** Cookie settings (secure defaults: `__Host-session`, HttpOnly, Secure, SameSite=Lax, Path=/). */
  cookie?: SessionCookieOptions<CookieName>;
  /** Initial data of a new session; deep-cloned for every session, never shared. */
  defaults?: Data;
  /** A Standard Schema (zod, valibot, ...) that loaded data must pass, or the session is rejected. */
  schema?: StandardSchemaV1<unknown, Data>;
  /** Timeouts. */
  expiry?: ExpiryOptions;
  /** Where records live. Default: sealed in the cookie. Prefer `store` for server-side sessions. */
  backend?: (context: BackendContext) => SessionBackend<Data, Flash>;
  /**
   * A server-side session store (`memoryStore()`, `sqliteStore()`, `redisStore()`, ...): the
   * cookie then holds only an opaque token. Mutually exclusive with `backend`.
   */
  store?: SessionStore;
  /** Store mode: the data key that holds the user id, for the per-user index. Default `userId`. */
  userIdKey?: string;
  /** AES-GCM engine. Default `auto` (node:crypto when available, else WebCrypto). */
  cryptoEngine?: CryptoEngine;
  /**
   * Sealed-cookie mode: how many recently opened or written cookie values to remember, so a repeat
   * request with the same value skips AES-GCM and the JSON parse (expiry is still checked).
   * Default `{ maxEntries: 2048 }`; `{ maxEntries: 0 }` turns it off. Ignored with `store` or `backend`.
   */
  cookieCache?: CookieCacheOptions;
  /** Clock in milliseconds (for tests). */
  now?: Clock;
  /** Random source (for tests). */
  randomBytes?: RandomBytes;
}

/** What a backend factory receives from the manager. */
export interface BackendContext {
  readonly keyRing: KeyRing;
  readonly cookie: CookieSettings;
  readonly expiry: ExpiryPolicy;
  readonly randomBytes: RandomBytes;
  readonly cryptoEngine: CryptoEngine;
}

/** How loading went. */
export type LoadStatus =
  | { readonly status: 'new' }
  | { readonly status: 'valid' }
  | { readonly status: 'rejected'; readonly reason: RejectReason };

/** The result of {@link SessionManager.load}: always a usable session, plus how it was obtained. */
export type LoadResult<Data extends object, Flash extends object> = LoadStatus & {
  readonly session: SessionHandle<Data, Flash>;
};

/** What every session manager does, whichever mode. */
interface SessionManagerBase<Data extends AnySessionData, Flash extends AnySessionData> {
  /** Loads the session of a request. Never throws for bad cookies; store outages throw `ERR_STORE_UNAVAILABLE`. */
  load(input: SessionInput): Promise<LoadResult<Data, Flash>>;
  /**
   * Persists changes and returns the `Set-Cookie` values to send: empty when nothing changed
   * and renewal is not due, unless `always` is set (then an unchanged session repeats its
   * current cookie without any cryptography, and a new one is written).
   */
  commit(session: SessionHandle<Data, Flash>, options?: CommitOptions): Promise<string[]>;
  /** The resolved cookie settings. */
  readonly cookie: CookieSettings;
  /** The resolved expiry policy. */
  readonly expiry: ExpiryPolicy;
  /** The key ring (share it with CSRF protection). */
  readonly keyRing: KeyRing;
}

/**
 * A session manager whose sessions live in their cookies (sealed, or a custom `backend`): they
 * cannot be listed or revoked, so it has no such methods.
 *
 * @example
 * ```ts
 * const sessions: CookieSessionManager = createSessionManager({ secrets });
 * ```
 */
export interface CookieSessionManager<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
> extends SessionManagerBase<Data, Flash> {
  /** Where sessions live: in their cookies. */
  readonly mode: 'cookie';
}

/**
 * A session manager over a server-side store: sessions can be listed and revoked.
 *
 * @example
 * ```ts
 * const sessions: StoreSessionManager = createSessionManager({ secrets, store: redisStore({ client }) });
 * await sessions.revokeUserSessions('u_1');
 * ```
 */
export interface StoreSessionManager<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
> extends SessionManagerBase<Data, Flash> {
  /** Where sessions live: in the store. */
  readonly mode: 'store';
  /**
   * Attaches metadata (user agent, ip) shown by {@link StoreSessionManager.listSessions}. Written
   * with the next commit. The `User-Agent` of the loading request is recorded by default when a
   * session is created or regenerated.
   */
  describe(session: SessionHandle<Data, Flash>, metadata: SessionMetadata): void;
  /** The live sessions of a user (ids, times, user agent, ip), oldest first. */
  listSessions(userId: string): Promise<SessionInfo[]>;
  /**
   * Deletes one session; it is rejected on its very next request. True when it existed (and, with
   * `userId`, belonged to that user: pass it when the id comes from a request, so one user cannot
   * revoke another's session).
   */
  revokeSession(sessionId: string, options?: RevokeSessionOptions): Promise<boolean>;
  /**
   * Deletes every session of a user, optionally except one (sign out other devices); resolves
   * with how many. When the store fails part-way it rejects with `ERR_STORE_UNAVAILABLE` whose
   * `revocation` lists the sessions it did revoke (`complete: false`); calling it again is safe
   * and revokes the rest.
   */
  revokeUserSessions(userId: string, options?: RevokeOptions<Data, Flash>): Promise<number>;
}

/**
 * The session engine, in either mode; narrow on `mode` to reach the store-only methods.
 *
 * @example
 * ```ts
 * if (manager.mode === 'store') await manager.revokeUserSessions(userId);
 * ```
 */
export type SessionManager<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
> = CookieSessionManager<Data, Flash> | StoreSessionManager<Data, Flash>;

/** Options of {@link SessionManager.revokeSession}. */
export interface RevokeSessionOptions {
  /** Revoke only if the session belongs to this user. */
  userId?: string;
}

/** Options of {@link SessionManager.revokeUserSessions}. */
export interface RevokeOptions<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
> {
  /** Keep this session (a session id, or the current session handle). */
  except?: string | SessionHandle<Data, Flash>;
}

/** Options of {@link SessionManager.commit}. */
export interface CommitOptions {
  /** Always return the session cookie, even when nothing changed (Remix `commitSession` semantics). */
  always?: boolean;
}

/**
 * @internal What the request pipeline needs of a manager beyond its public API: load and commit
 * without a promise when no I/O is needed (a remembered cookie, an unchanged session), so the
 * common request runs synchronously up to the page; and session handles made on the spot. The
 * operations may throw instead of rejecting.
 */
export interface SessionOperations<Data extends AnySessionData, Flash extends AnySessionData> {
  load(input: SessionInput): MaybePromise<LoadResult<Data, Flash>>;
  commit(session: SessionHandle<Data, Flash>, options?: CommitOptions): MaybePromise<string[]>;
  /** A new, empty session (nothing is read). */
  fresh(): SessionHandle<Data, Flash>;
  /**
   * A new session that takes the place of `destroyed` (a sign-out followed by more work in the same
   * request): committing it deletes the destroyed session's record and writes (or clears) the one
   * session cookie, so a response never carries two `Set-Cookie` lines for one name.
   */
  successor(destroyed: SessionHandle<Data, Flash>): SessionHandle<Data, Flash>;
  /** A session holding `data` that counts as already saved (for sessions kept elsewhere, such as Astro's). */
  adopted(data: Record<string, unknown>): SessionHandle<Data, Flash>;
}

const sessionOperations = new WeakMap<object, unknown>();

/**
 * @internal The operations of a manager made by {@link createSessionManager}.
 *
 * @throws `ERR_CONFIG_INVALID` for any other object
 */
export function sessionOperationsOf<Data extends AnySessionData, Flash extends AnySessionData>(
  manager: SessionManager<Data, Flash>,
): SessionOperations<Data, Flash> {
  const operations = sessionOperations.get(manager);
  if (operations === undefined) throw configError('This session manager was not made by createSessionManager().');
  return operations as SessionOperations<Data, Flash>;
}

/** A destroyed session that a successor replaces: removed from the backend when the successor is committed. */
interface Predecessor {
  readonly record: SessionRecord<AnySessionData, AnySessionData>;
  readonly state: unknown;
  /** The id the backend knows it by (its id before any regeneration in this request). */
  readonly sessionId: string;
}

/** The manager's bookkeeping for a handle it created, kept on the handle (`setManagerSlot`). */
interface LoadContext {
  /** The manager that created the handle: another manager's handles are refused. */
  readonly owner: object;
  /** The cookie value that currently holds the session, when there is one. */
  readonly cookieValue: string | undefined;
  readonly presentNames: readonly string[];
  readonly rejected: boolean;
  readonly reissue: boolean;
  state: unknown;
  /** What the session was loaded from: its `User-Agent` is recorded when a store session is written under a new id. */
  readonly input: SessionInput;
  /** The destroyed session this one replaces, still to be removed from the backend. */
  readonly predecessor?: Predecessor | undefined;
}

const managerOptionKeys = [
  'secrets',
  'cookie',
  'defaults',
  'schema',
  'expiry',
  'backend',
  'store',
  'userIdKey',
  'cryptoEngine',
  'cookieCache',
  'now',
  'randomBytes',
  'logger',
  'onEvent',
];

function isKeyRing(value: unknown): value is KeyRing {
  return typeof value === 'object' && value !== null && typeof (value as KeyRing).derive === 'function';
}

function userAgentOf(input: SessionInput): string | undefined {
  if (input === null || input === undefined || typeof input === 'string') return undefined;
  const headers = input instanceof Headers ? input : (input as Request).headers;
  return typeof headers?.get === 'function' ? (headers.get('user-agent') ?? undefined) : undefined;
}

function cookieHeaderOf(input: SessionInput): string | null | undefined {
  if (input === null || input === undefined || typeof input === 'string') return input;
  if (input instanceof Headers) return input.get('cookie');
  if (typeof (input as Request).headers?.get === 'function') return (input as Request).headers.get('cookie');
  return undefined;
}

/**
 * Creates a session manager: a {@link StoreSessionManager} when `store` is given, else a
 * {@link CookieSessionManager}.
 *
 * @throws `ERR_CONFIG_INVALID` / `ERR_SECRET_WEAK` for bad options, at construction
 *
 * @example
 * ```ts
 * const sessions = createSessionManager<{ userId?: string }>({ secrets: process.env.SESSION_SECRET! });
 * const { session } = await sessions.load(request);
 * session.set('userId', 'u_1');
 * for (const cookie of await sessions.commit(session)) response.headers.append('set-cookie', cookie);
 * ```
 */
export function createSessionManager<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
  CookieName extends string = string,
>(options: SessionManagerOptions<Data, Flash, CookieName> & { store?: undefined }): CookieSessionManager<Data, Flash>;
export function createSessionManager<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
  CookieName extends string = string,
>(options: SessionManagerOptions<Data, Flash, CookieName> & { store: SessionStore }): StoreSessionManager<Data, Flash>;
export function createSessionManager<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
  CookieName extends string = string,
>(options: SessionManagerOptions<Data, Flash, CookieName>): SessionManager<Data, Flash>;
export function createSessionManager<
  Data extends AnySessionData = AnySessionData,
  Flash extends AnySessionData = AnySessionData,
  CookieName extends string = string,
>(options: SessionManagerOptions<Data, Flash, CookieName>): SessionManager<Data, Flash> {
  const where = 'createSessionManager()';
  assertOptionsObject(options, managerOptionKeys, where);
  if (options === undefined || options.secrets === undefined) {
    throw configError(
      `${where}: "secrets" is required.`,
      'Pass `secrets: process.env.SESSION_SECRET` (32+ random bytes).',
    );
  }
  const cookie = resolveCookieSettings(options.cookie as Record<string, unknown> | undefined, where);
  const expiry = resolveExpiry(options.expiry, where);
  const cryptoEngine = options.cryptoEngine ?? 'auto';
  if (!['auto', 'node', 'webcrypto'].includes(cryptoEngine)) {
    throw configError(`${where}: cryptoEngine must be "auto", "node" or "webcrypto".`);
  }
  const cookieCacheMaxEntries = resolveCookieCacheMaxEntries(options.cookieCache, where);
  const keyRing = isKeyRing(options.secrets)
    ? options.secrets
    : createKeyRing(options.secrets, { forceWebCrypto: cryptoEngine === 'webcrypto' });
  if (options.schema !== undefined && !isStandardSchema(options.schema)) {
    throw configError(`${where}: "schema" must be a Standard Schema (zod, valibot, arktype, ...).`);
  }
  if (options.defaults !== undefined && (typeof options.defaults !== 'object' || options.defaults === null)) {
    throw configError(`${where}: "defaults" must be an object.`);
  }
  for (const hook of ['now', 'randomBytes', 'backend'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') {
      throw configError(`${where}: "${hook}" must be a function.`);
    }
  }
  if (options.store !== undefined && options.backend !== undefined) {
    throw configError(`${where}: give either "store" or "backend", not both.`, '"store" builds the backend for you.');
  }
  if (options.store !== undefined && !isSessionStore(options.store)) {
    throw configError(
      `${where}: "store" must be a session store (get, create, patch, delete).`,
      'Use a factory such as memoryStore(), sqliteStore(), redisStore() or postgresStore().',
    );
  }
  if (options.userIdKey !== undefined && (options.store === undefined || typeof options.userIdKey !== 'string')) {
    throw configError(`${where}: "userIdKey" must be a string and needs "store".`);
  }
  const defaults = options.defaults === undefined ? undefined : structuredClone(options.defaults);
  const defaultKeys = defaults === undefined ? [] : Object.keys(defaults);
  const schema = options.schema;
  const now = options.now ?? systemClock;
  const randomBytes = options.randomBytes ?? secureRandomBytes;
  const reporter = createReporter(options);
  const backendContext: BackendContext = { keyRing, cookie, expiry, randomBytes, cryptoEngine };
  const storeBackend =
    options.store === undefined
      ? undefined
      : createStoreBackend<Data, Flash>(options.store, {
          expiry,
          randomBytes,
          reporter,
          userIdKey: options.userIdKey ?? 'userId',
        });
  const sealedBackend =
    storeBackend === undefined && options.backend === undefined
      ? createSealedBackend<Data, Flash>(
          createSealer(keyRing, 'cookie', { engine: cryptoEngine, randomBytes }),
          cookie.name,
          cookieCacheMaxEntries,
        )
      : undefined;
  const backend =
    storeBackend ?? sealedBackend ?? (options.backend as NonNullable<typeof options.backend>)(backendContext);
  const maxValueLength = cookie.maxChunks * maxCookieBytes;
  const owner = {};
  const contextOf = (session: SessionHandle<Data, Flash>): LoadContext | undefined => {
    const slot = managerSlotOf(session) as LoadContext | undefined;
    return slot?.owner === owner ? slot : undefined;
  };
  const setContext = (session: SessionHandle<Data, Flash>, context: LoadContext): void =>
    setManagerSlot(session as SessionHandle<AnySessionData, AnySessionData>, context);

  const nowSeconds = (): number => Math.floor(now() / 1000);
  const newId = (): string => encodeBase64Url(randomBytes(32));

  const newSession = (
    presentNames: readonly string[],
    rejected: boolean,
    input: SessionInput,
    predecessor?: Predecessor,
  ): SessionHandle<Data, Flash> => {
    const createdAt = nowSeconds();
    const record: SessionRecord<Data, Flash> = {
      id: newId(),
      createdAt,
      renewedAt: createdAt,
      expiresAt: computeExpiresAt(expiry, createdAt, createdAt),
      data: (defaults === undefined ? {} : structuredClone(defaults)) as Data,
      flash: {},
    };
    const session = new SessionHandle(record, true, newId, nowSeconds);
    setContext(session, {
      owner,
      cookieValue: undefined,
      presentNames,
      rejected,
      reissue: false,
      state: undefined,
      input,
      predecessor,
    });
    return session;
  };

  const requireStore = (method: string): StoreBackend<Data, Flash> => {
    if (storeBackend !== undefined) return storeBackend;
    throw configError(
      `${method}: sessions are kept in cookies, which cannot be listed or revoked.`,
      'Pass a server-side store: createSessionManager({ secrets, store: redisStore({ client }) }).',
    );
  };

  /**
   * Store mode: records the loading request's `User-Agent` for a session about to be written under
   * a new id (created or regenerated), unless the app described the session itself. Read at commit,
   * not at load, so the many requests that write nothing never touch it.
   */
  const noteUserAgent = (session: SessionHandle<Data, Flash>, input: SessionInput): void => {
    if (storeBackend === undefined || !(session.isNew || sessionChangesOf(session).previousId !== undefined)) return;
    const userAgent = userAgentOf(input);
    if (userAgent !== undefined) storeBackend.describe(sessionRecordOf(session), { userAgent }, false);
  };

  const reject = (
    reason: RejectReason,
    presentNames: readonly string[],
    input: SessionInput,
    sessionId?: string,
  ): LoadResult<Data, Flash> => {
    const level = reason === 'expired' ? 'debug' : 'warn';
    const message =
      reason === 'unknown_key'
        ? 'session cookie sealed with a key that is not configured (secret rotated out, or secrets differ between instances)'
        : reason === 'future_dated'
          ? `session issued or renewed more than ${expiry.clockSkewSeconds} s in the future (a server clock runs fast, or the cookie was sealed with a forged date)`
          : `session cookie rejected: ${reason}`;
    reporter.log(level, message, { reason, cookie: cookie.name });
    reporter.emit(
      sessionId === undefined ? { type: 'session.rejected', reason } : { type: 'session.rejected', reason, sessionId },
    );
    return { status: 'rejected', reason, session: newSession(presentNames, true, input) };
  };

  const fillDefaults = (data: AnySessionData): void => {
    if (defaults === undefined) return;
    for (const key of defaultKeys) {
      if (!Object.hasOwn(data, key)) defineValue(data, key, structuredClone((defaults as AnySessionData)[key]));
    }
  };

  /** Turns an opened record into the loaded session: expiry, schema, defaults. */
  const accept = (
    input: SessionInput,
    value: string,
    presentNames: readonly string[],
    read: Extract<BackendReadResult<Data, Flash>, { ok: true }>,
    current: number,
  ): LoadResult<Data, Flash> | Promise<LoadResult<Data, Flash>> => {
    const { record } = read;
    const liveness = livenessOf(expiry, record, current);
    if (liveness === 'future_dated') return reject('future_dated', presentNames, input, record.id);
    if (liveness === 'expired') {
      reporter.emit({ type: 'session.rejected', reason: 'expired', sessionId: record.id });
      return { status: 'rejected', reason: 'expired', session: newSession(presentNames, true, input) };
    }
    const finish = (): LoadResult<Data, Flash> => {
      fillDefaults(record.data);
      const session = new SessionHandle(record, false, newId, nowSeconds);
      setContext(session, {
        owner,
        cookieValue: value,
        presentNames,
        rejected: false,
        reissue: read.reissue,
        state: read.state,
        input,
      });
      return { status: 'valid', session };
    };
    if (schema === undefined) return finish();
    return validateWithSchema(schema, record.data).then((checked) => {
      if (!checked.ok) return reject('invalid_data', presentNames, input, record.id);
      record.data = checked.value;
      return finish();
    });
  };

  /** Loads a session; synchronous when the backend answers synchronously (a remembered cookie). */
  const loadNow = (input: SessionInput): LoadResult<Data, Flash> | Promise<LoadResult<Data, Flash>> => {
    const { value, presentNames } = readSessionCookie(cookieHeaderOf(input), cookie);
    if (value === undefined) {
      if (presentNames.length > 0) return reject('malformed', presentNames, input);
      return { status: 'new', session: newSession([], false, input) };
    }
    if (value.length > maxValueLength) return reject('malformed', presentNames, input);
    const current = nowSeconds();
    // A cookie the sealed backend has opened before, or opens on node:crypto, answers without waiting.
    const reading = sealedBackend?.readNow(value) ?? backend.read(value, current);
    return mapMaybe(reading, (read) =>
      read.ok ? accept(input, value, presentNames, read, current) : reject(read.reason, presentNames, input),
    );
  };

  /** Deletes a destroyed session (server-side too) and clears its cookies. */
  const commitDestroyed = async (session: SessionHandle<Data, Flash>, context: LoadContext): Promise<string[]> => {
    const record = sessionRecordOf(session);
    const changes = sessionChangesOf(session);
    if (!session.isNew || changes.previousId !== undefined) {
      await backend.remove(record, context.state);
      reporter.emit({ type: 'session.destroyed', sessionId: changes.previousId ?? record.id });
    }
    const cleared = serializeDeletions(cookie, context.presentNames);
    setContext(session, { ...context, cookieValue: undefined, presentNames: [] });
    return cleared;
  };

  /** Renews and writes a changed (or due) session, and returns its cookies. */
  const commitWrite = async (
    session: SessionHandle<Data, Flash>,
    context: LoadContext,
    current: number,
  ): Promise<string[]> => {
    const record = sessionRecordOf(session);
    const changes = sessionChangesOf(session);
    const wasNew = session.isNew;
    const modified = session.isModified;
    const previousId = changes.previousId;
    const restart = sessionWindowRestartOf(session);
    if (wasNew || restart !== undefined || expiry.rolling) {
      // The window: the ttl asked for now, the policy's on a restart without one, else the record's own.
      const window =
        restart === undefined
          ? wasNew
            ? expiry.idleTimeoutSeconds
            : sessionWindowOf(expiry, record)
          : restart === 'policy'
            ? expiry.idleTimeoutSeconds
            : Math.min(restart, expiry.idleTimeoutSeconds);
      record.expiresAt = Math.min(computeExpiresAt(expiry, record.createdAt, current), current + window);
    }
    // Without rolling expiry, a write keeps the expiry it had: only a sign-in or a ttl moves it.
    record.renewedAt = current;
    let written: Awaited<ReturnType<typeof backend.write>>;
    try {
      written = await backend.write(record, changes, context.state);
    } catch (error) {
      if (!(error instanceof SessionGoneError)) throw error;
      // Revoked (or rotated) by another request meanwhile: never resurrect it; clear the cookie.
      reporter.emit({ type: 'session.rejected', reason: 'revoked', sessionId: changes.previousId ?? record.id });
      const cleared = serializeDeletions(cookie, context.presentNames);
      setContext(session, { ...context, cookieValue: undefined, presentNames: [], state: undefined });
      session.destroy(); // a later commit of this handle must not create a session from its data
      return cleared;
    }
    const { setCookies, names } = serializeSessionCookie(
      cookie,
      written.cookieValue,
      record.expiresAt - current,
      context.presentNames,
    );
    markSessionCommitted(session);
    setContext(session, {
      owner,
      cookieValue: written.cookieValue,
      presentNames: names,
      rejected: false,
      reissue: false,
      state: written.state,
      input: context.input,
    });
    if (wasNew) reporter.emit({ type: 'session.created', sessionId: record.id });
    else if (previousId !== undefined) {
      reporter.emit({ type: 'session.rotated', sessionId: record.id, previousSessionId: previousId });
    } else if (!modified) reporter.emit({ type: 'session.renewed', sessionId: record.id });
    return setCookies;
  };

  /** Removes the destroyed session a successor replaces, then commits the successor. */
  const commitSuccessor = async (
    session: SessionHandle<Data, Flash>,
    context: LoadContext,
    predecessor: Predecessor,
    commitOptions: CommitOptions | undefined,
  ): Promise<string[]> => {
    await backend.remove(predecessor.record as SessionRecord<Data, Flash>, predecessor.state);
    reporter.emit({ type: 'session.destroyed', sessionId: predecessor.sessionId });
    setContext(session, { ...context, predecessor: undefined });
    return commitNow(session, commitOptions);
  };

  /** Commits a session; synchronous when nothing has to be written (the common read-only request). */
  const commitNow = (
    session: SessionHandle<Data, Flash>,
    commitOptions: CommitOptions | undefined,
  ): string[] | Promise<string[]> => {
    const context = contextOf(session);
    if (context === undefined) {
      throw configError('commit(): this session was not loaded by this session manager.');
    }
    if (context.predecessor !== undefined) return commitSuccessor(session, context, context.predecessor, commitOptions);
    if (session.isDestroyed) return commitDestroyed(session, context);
    const record = sessionRecordOf(session);
    const current = nowSeconds();
    const renewal = !session.isNew && isRenewalDue(expiry, record, current);
    if (!session.isModified && !context.reissue && !renewal && !(commitOptions?.always && session.isNew)) {
      if (commitOptions?.always && context.cookieValue !== undefined) {
        const remaining = record.expiresAt - current;
        return serializeSessionCookie(cookie, context.cookieValue, remaining, context.presentNames).setCookies;
      }
      if (!context.rejected || context.presentNames.length === 0) return [];
      const cleared = serializeDeletions(cookie, context.presentNames);
      setContext(session, { ...context, presentNames: [] });
      return cleared;
    }
    noteUserAgent(session, context.input);
    return commitWrite(session, context, current);
  };

  // In cookie mode the store-only methods exist at run time too (for JavaScript callers, with an
  // error that says why), but not on the type.
  const manager: Omit<StoreSessionManager<Data, Flash>, 'mode'> & { mode: 'cookie' | 'store' } = {
    mode: storeBackend === undefined ? 'cookie' : 'store',
    cookie,
    expiry,
    keyRing,
    load: (input) => promiseOf(() => loadNow(input)),

    commit: (session, commitOptions) => promiseOf(() => commitNow(session, commitOptions)),

    describe(session, metadata) {
      const backendOfStore = requireStore('describe()');
      const context = contextOf(session);
      if (context === undefined) throw configError('describe(): this session was not loaded by this session manager.');
      backendOfStore.describe(sessionRecordOf(session), metadata, true);
      // A loaded session must be written at commit even if its data did not change.
      if (!session.isNew) setContext(session, { ...context, reissue: true });
    },

    listSessions(userId) {
      return requireStore('listSessions()').listSessions(userId, nowSeconds());
    },

    async revokeSession(sessionId, revokeOptions) {
      const backendOfStore = requireStore('revokeSession()');
      const userId = revokeOptions?.userId;
      if (userId !== undefined) {
        const owned = await backendOfStore.listSessions(userId, nowSeconds());
        if (!owned.some((info) => info.id === sessionId)) return false;
      }
      const revoked = await backendOfStore.revokeSession(sessionId);
      if (revoked)
        reporter.emit(
          userId === undefined
            ? { type: 'session.revoked', sessionId }
            : { type: 'session.revoked', sessionId, userId },
        );
      return revoked;
    },

    async revokeUserSessions(userId, revokeOptions) {
      const except = revokeOptions?.except;
      const exceptId = except === undefined || typeof except === 'string' ? except : except.id;
      let revoked: readonly string[];
      try {
        revoked = await requireStore('revokeUserSessions()').revokeUserSessions(userId, exceptId);
      } catch (error) {
        const partly = isSessionKitError(error) ? (error.revocation?.revokedSessionIds ?? []) : [];
        for (const sessionId of partly) reporter.emit({ type: 'session.revoked', sessionId, userId });
        throw error;
      }
      for (const sessionId of revoked) reporter.emit({ type: 'session.revoked', sessionId, userId });
      return revoked.length;
    },
  };
  const operations: SessionOperations<Data, Flash> = {
    load: loadNow,
    commit: commitNow,
    fresh: () => newSession([], false, undefined),
    successor(destroyed) {
      const context = contextOf(destroyed);
      if (context === undefined || !destroyed.isDestroyed) {
        throw configError('successor(): expects a destroyed session loaded by this session manager.');
      }
      const changes = sessionChangesOf(destroyed);
      const stored = !destroyed.isNew || changes.previousId !== undefined;
      const predecessor: Predecessor | undefined =
        context.predecessor ??
        (stored
          ? {
              record: sessionRecordOf(destroyed) as SessionRecord<AnySessionData, AnySessionData>,
              state: context.state,
              sessionId: changes.previousId ?? destroyed.id,
            }
          : undefined);
      // The successor inherits the cookie names the browser sent: an unchanged successor clears them.
      return newSession(context.presentNames, context.presentNames.length > 0, context.input, predecessor);
    },
    adopted(data) {
      const session = newSession([], false, undefined);
      const writable = session as unknown as SessionHandle<Record<string, unknown>>;
      for (const [key, value] of Object.entries(data)) writable.set(key, value);
      markSessionCommitted(session as SessionHandle<AnySessionData>);
      return session;
    },
  };
  sessionOperations.set(manager, operations);
  return manager as SessionManager<Data, Flash>;
}
