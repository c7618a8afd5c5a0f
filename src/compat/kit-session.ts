/**
 * `sessionkit/compat/kit-session`: the call shapes of `@revas-hq/kit-session`, built on
 * sessionkit's session manager, so an app can move over by changing its imports.
 *
 * What is kept: `createSessionManager({ name, cookie, storage })` with `getValue`, `setValue`,
 * `unsetValue`, `destroyValues`, `isModified`, `extractSession` and `injectSession` working on a
 * plain mutable context object; `createCookieSessionStore()`;
 * `createEncryptSessionStoreMiddleware(key, { encryptValues })`; `importRawKey(base64Key)`;
 * `createSessionRequestFunction` / `createSessionResponseFunction`.
 *
 * What changes, on purpose:
 * - The cookie store is always sealed with AES-256-GCM (sessionkit's cookie format), with or
 *   without the encrypt middleware. There is no unencrypted cookie store. Without the middleware
 *   a key must be given as `secrets`.
 * - The key must be 32 bytes. kit-session's AES-128 and AES-192 keys (16 or 24 bytes) are refused.
 * - `cookie.maxAge` becomes the session's absolute lifetime, checked inside the token. The idle
 *   timeout defaults to 24 hours (or `maxAge`, if shorter).
 * - `storage` takes the cookie store or a sessionkit server-side store (`memoryStore()`,
 *   `redisStore()`, ...). It does not take a custom kit-session `SessionStore` implementation.
 *   On a server-side store, `encryptValues: true` maps to `sessionkit/stores/encrypt`.
 * - Writing to a session after `destroyValues()` in the same request throws
 *   `ERR_SESSION_DESTROYED` instead of silently starting a new one.
 *
 * @example
 * ```ts
 * import {
 *   createCookieSessionStore,
 *   createEncryptSessionStoreMiddleware,
 *   createSessionManager,
 *   importRawKey,
 * } from 'sessionkit/compat/kit-session';
 *
 * const key = await importRawKey(process.env.SESSION_SECRET_KEY_BASE64!);
 * const storage = createEncryptSessionStoreMiddleware(key, { encryptValues: true })(createCookieSessionStore());
 * const sessions = createSessionManager({ name: 'session', cookie: { name: '__Host-Session' }, storage });
 * ```
 *
 * @module
 */
import type { SessionCookieOptions as CoreCookieOptions } from '../core/cookie.ts';
import { configError, SessionKitError } from '../core/errors.ts';
import type { EventListener, Logger } from '../core/events.ts';
import type { ExpiryOptions } from '../core/expiry.ts';
import { createKeyRing } from '../core/keyring.ts';
import { createSessionManager as createCoreManager, type SessionInput } from '../core/manager.ts';
import { assertOptionsObject, describeValue } from '../core/options.ts';
import type { SecretInput } from '../core/secrets.ts';
import { type AnySessionData, defineValue, SessionHandle } from '../core/session.ts';
import { type SessionStore as CoreSessionStore, isSessionStore } from '../core/store.ts';
import { encryptStore } from '../stores/encrypt.ts';

/**
 * The key returned by {@link importRawKey}. It is an opaque handle, not a WebCrypto `CryptoKey`.
 * The key bytes are not reachable through its properties, so it can be logged safely.
 */
export interface RawSessionKey {
  readonly kind: 'sessionkit-raw-key';
  /** Key length in bytes (always 32). */
  readonly byteLength: number;
}

/**
 * A session storage, from {@link createCookieSessionStore}, optionally wrapped by the encrypt
 * middleware. `T` is the session data shape, as in kit-session (informational only).
 */
export interface SessionStore<T extends AnySessionData = AnySessionData> {
  /** `cookie`: sealed in the cookie; `store`: a sessionkit server-side store. */
  readonly kind: 'cookie' | 'store';
  /** True once wrapped by {@link createEncryptSessionStoreMiddleware}. */
  readonly encrypted: boolean;
  /** @internal Type-level marker of the data shape. */
  readonly __data?: T;
}

/** What {@link createEncryptSessionStoreMiddleware} returns: wraps a storage (or a sessionkit store). */
export type SessionStoreMiddleware = <T extends AnySessionData = AnySessionData>(
  storage: SessionStore<T> | CoreSessionStore,
) => SessionStore<T>;

/** Options of {@link createEncryptSessionStoreMiddleware}. */
export interface EncryptSessionStoreOptions {
  /**
   * Server-side stores: also encrypt the stored values (`sessionkit/stores/encrypt`). Default
   * false. No effect on the cookie store, whose whole content is always encrypted.
   */
  encryptValues?: boolean;
}

/**
 * Cookie options, in kit-session's shape. Secure defaults as in sessionkit: `__Host-session`,
 * HttpOnly (forced: `false` is refused), Secure, SameSite=Lax, Path=/.
 */
export interface SessionCookieOptions {
  /** Cookie name. Default `__Host-session`. */
  name?: string;
  /** `Path` attribute. Default `/`. */
  path?: string;
  /** `Domain` attribute. Default none (host-only). Not allowed with a `__Host-` name. */
  domain?: string;
  /** Always true. `false` is refused at construction. */
  httpOnly?: boolean;
  /** `Secure` attribute. Default true. */
  secure?: boolean;
  /** `SameSite` attribute (any letter case). Default `lax`. */
  sameSite?: 'lax' | 'strict' | 'none' | 'Lax' | 'Strict' | 'None';
  /** Session lifetime in seconds: becomes `expiry.absoluteTimeoutSeconds`. Default 7 days. */
  maxAge?: number;
  /** `Partitioned` (CHIPS) attribute. Default false. */
  partitioned?: boolean;
  /** `Priority` attribute (Chromium). */
  priority?: 'low' | 'medium' | 'high';
}

/** Options of {@link createSessionManager}. */
export interface SessionManagerOptions<T extends AnySessionData = AnySessionData> {
  /** The property of the context object that holds the session handle. */
  name: string;
  /** Cookie settings. */
  cookie?: SessionCookieOptions;
  /** From {@link createCookieSessionStore} (optionally encrypted), or a sessionkit store such as `memoryStore()`. */
  storage: SessionStore<T> | CoreSessionStore;
  /**
   * Secrets (32+ random bytes each, newest first), when `storage` was not wrapped by
   * {@link createEncryptSessionStoreMiddleware}. Give the key in exactly one place.
   */
  secrets?: SecretInput | readonly SecretInput[];
  /** Timeouts, in seconds. `cookie.maxAge` sets `absoluteTimeoutSeconds`; do not give both. */
  expiry?: ExpiryOptions;
  /** Where sessionkit writes its own log lines. Default: nowhere. */
  logger?: Logger;
  /** Audit events (no secrets, no session data). */
  onEvent?: EventListener;
}

/** The context object the manager reads and writes: any mutable object (kit-context's role). */
export type SessionContext = object;

/** The session manager of {@link createSessionManager}. */
export interface SessionManager {
  /** Loads the session of `request` and puts its handle on `context[name]`. Returns `context`. */
  extractSession<C extends SessionContext>(context: C, request: SessionInput): Promise<C>;
  /**
   * Saves the session when it changed (or renewal is due) and appends the `Set-Cookie` values to
   * `response` (a `Response` with mutable headers, or a `Headers`). Returns the values appended.
   */
  injectSession(context: SessionContext, response: Response | Headers): Promise<string[]>;
  /** A value of the session, or `undefined`. */
  getValue<V = unknown>(context: SessionContext, key: string): V | undefined;
  /** Sets a value (`undefined` removes it). */
  setValue(context: SessionContext, key: string, value: unknown): void;
  /** Removes a value. */
  unsetValue(context: SessionContext, key: string): void;
  /** Ends the session: its cookie (and store entry) is deleted by {@link injectSession}. */
  destroyValues(context: SessionContext): void;
  /** True when the session was written, destroyed or regenerated in this request. */
  isModified(context: SessionContext): boolean;
  /** Not in kit-session: issues a new session id and keeps the values. Call it at sign-in. */
  regenerate(context: SessionContext): void;
  /** Not in kit-session: the sessionkit `SessionHandle` (`flash`, `has`, `expiresAt`, ...). */
  getSession(context: SessionContext): SessionHandle;
}

/** The per-request hooks returned by {@link createSessionRequestFunction} / {@link createSessionResponseFunction}. */
export type SessionRequestFunction = <C extends SessionContext>(context: C, request: SessionInput) => Promise<C>;
/** See {@link SessionRequestFunction}. */
export type SessionResponseFunction = (context: SessionContext, response: Response | Headers) => Promise<string[]>;

interface StorageInternals {
  readonly kind: 'cookie' | 'store';
  readonly store: CoreSessionStore | undefined;
  readonly key: Uint8Array | undefined;
  readonly encryptValues: boolean;
}

const keyBytes = new WeakMap<RawSessionKey, Uint8Array>();
const storageInternals = new WeakMap<SessionStore, StorageInternals>();

function makeStorage<T extends AnySessionData>(internals: StorageInternals): SessionStore<T> {
  const storage: SessionStore<T> = Object.freeze({ kind: internals.kind, encrypted: internals.key !== undefined });
  storageInternals.set(storage, internals);
  return storage;
}

function internalsOf(storage: unknown, where: string): StorageInternals {
  if (isSessionStore(storage)) return { kind: 'store', store: storage, key: undefined, encryptValues: false };
  const internals = storageInternals.get(storage as SessionStore);
  if (internals === undefined) {
    throw configError(
      `${where}: "storage" must come from createCookieSessionStore() or be a sessionkit store, got ${describeValue(storage)}.`,
      'Custom kit-session stores are not supported: use memoryStore(), sqliteStore(), redisStore(), postgresStore() or unstorageStore().',
    );
  }
  return internals;
}

const base64Pattern = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Decodes a base64 (or base64url) key of 32 random bytes, for
 * {@link createEncryptSessionStoreMiddleware}. Async, as in kit-session.
 *
 * @throws `ERR_CONFIG_INVALID` when the text is not base64; `ERR_SECRET_WEAK` when the key is
 * not 32 bytes (AES-128 and AES-192 keys are refused) or looks non-random
 *
 * @example
 * ```ts
 * const key = await importRawKey(process.env.SESSION_SECRET_KEY_BASE64!); // `openssl rand -base64 32`
 * ```
 */
export async function importRawKey(base64Key: string): Promise<RawSessionKey> {
  const where = 'importRawKey()';
  const text = typeof base64Key === 'string' ? base64Key.trim() : '';
  if (!base64Pattern.test(text)) {
    throw configError(
      `${where}: the key must be a base64 string, got ${describeValue(base64Key)}.`,
      'Generate one with `openssl rand -base64 32`.',
    );
  }
  let binary: string;
  try {
    binary = atob(text.replaceAll('-', '+').replaceAll('_', '/').replace(/=+$/, ''));
  } catch {
    throw configError(`${where}: the key is not valid base64.`, 'Generate one with `openssl rand -base64 32`.');
  }
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  if (bytes.byteLength !== 32) {
    throw new SessionKitError('ERR_SECRET_WEAK', `${where}: the key has ${bytes.byteLength} bytes, 32 required.`, {
      hint: 'sessionkit uses AES-256 only. Generate a new key with `openssl rand -base64 32`.',
    });
  }
  createKeyRing(bytes); // validates: throws ERR_SECRET_WEAK for an obviously non-random key
  const key: RawSessionKey = Object.freeze({ kind: 'sessionkit-raw-key', byteLength: 32 });
  keyBytes.set(key, bytes);
  return key;
}

/**
 * The stateless cookie store: the session travels in the cookie. Unlike kit-session's, it is
 * always encrypted and authenticated (AES-256-GCM). It still needs a key: wrap it with
 * {@link createEncryptSessionStoreMiddleware}, or pass `secrets` to {@link createSessionManager}.
 *
 * @example
 * ```ts
 * const cookieStore = createCookieSessionStore<{ userId?: string; theme?: string }>();
 * ```
 */
export function createCookieSessionStore<T extends AnySessionData = AnySessionData>(): SessionStore<T> {
  return makeStorage<T>({ kind: 'cookie', store: undefined, key: undefined, encryptValues: false });
}

/**
 * Returns a middleware that attaches `key` to a storage. For the cookie store this is where the
 * cookie's key comes from (the cookie is encrypted in any case). For a sessionkit server-side
 * store, `encryptValues: true` also encrypts every stored value (`sessionkit/stores/encrypt`).
 *
 * @throws `ERR_CONFIG_INVALID` when `key` is not from {@link importRawKey}, or the storage already has a key
 *
 * @example
 * ```ts
 * const encryptMiddleware = createEncryptSessionStoreMiddleware(await importRawKey(base64Key), { encryptValues: true });
 * const secureCookieStore = encryptMiddleware(createCookieSessionStore());
 * ```
 */
export function createEncryptSessionStoreMiddleware(
  key: RawSessionKey,
  options: EncryptSessionStoreOptions = {},
): SessionStoreMiddleware {
  const where = 'createEncryptSessionStoreMiddleware()';
  const bytes = keyBytes.get(key);
  if (bytes === undefined) {
    throw configError(
      `${where}: "key" must come from importRawKey().`,
      'WebCrypto CryptoKey objects are not accepted: pass `await importRawKey(base64Key)`.',
    );
  }
  assertOptionsObject(options, ['encryptValues'], where);
  if (options.encryptValues !== undefined && typeof options.encryptValues !== 'boolean') {
    throw configError(`${where}: "encryptValues" must be a boolean.`);
  }
  const encryptValues = options.encryptValues === true;
  return <T extends AnySessionData = AnySessionData>(storage: SessionStore<T> | CoreSessionStore): SessionStore<T> => {
    const internals = internalsOf(storage, where);
    if (internals.key !== undefined) throw configError(`${where}: this storage is already encrypted.`);
    return makeStorage<T>({ ...internals, key: bytes, encryptValues });
  };
}

const managerOptionKeys = ['name', 'cookie', 'storage', 'secrets', 'expiry', 'logger', 'onEvent'];

/**
 * Creates a kit-session style manager on top of sessionkit's session manager.
 *
 * @throws `ERR_CONFIG_INVALID` / `ERR_SECRET_WEAK` for bad options, at construction
 *
 * @example
 * ```ts
 * const sessionManager = createSessionManager({
 *   name: 'myAppSession',
 *   cookie: { name: '__Host-Session', path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 604800 },
 *   storage: secureCookieStore,
 * });
 *
 * const context = {};
 * await sessionManager.extractSession(context, request);
 * sessionManager.setValue(context, 'counter', (sessionManager.getValue<number>(context, 'counter') ?? 0) + 1);
 * const response = new Response('ok');
 * await sessionManager.injectSession(context, response);
 * ```
 */
export function createSessionManager<T extends AnySessionData = AnySessionData>(
  options: SessionManagerOptions<T>,
): SessionManager {
  const where = 'createSessionManager()';
  assertOptionsObject(options, managerOptionKeys, where);
  const name = options?.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw configError(`${where}: "name" (the context property holding the session) must be a non-empty string.`);
  }
  const storage = internalsOf(options.storage, where);
  if (storage.key !== undefined && options.secrets !== undefined) {
    throw configError(
      `${where}: the storage already carries a key (encrypt middleware), and "secrets" was given too.`,
      'Give the key in one place only.',
    );
  }
  if (storage.key === undefined && options.secrets === undefined) {
    throw configError(
      `${where}: no key. sessionkit always encrypts sessions, so it needs one.`,
      'Wrap the storage with createEncryptSessionStoreMiddleware(await importRawKey(base64Key)), or pass `secrets`.',
    );
  }
  const keyRing = createKeyRing(storage.key ?? (options.secrets as SecretInput | readonly SecretInput[]));
  const store =
    storage.store !== undefined && storage.encryptValues ? encryptStore(storage.store, { keyRing }) : storage.store;

  const { maxAge, sameSite, ...cookie } = options.cookie ?? {};
  if (maxAge !== undefined && options.expiry?.absoluteTimeoutSeconds !== undefined) {
    throw configError(`${where}: give cookie.maxAge or expiry.absoluteTimeoutSeconds, not both.`);
  }
  const expiry: ExpiryOptions | undefined =
    maxAge === undefined ? options.expiry : { ...options.expiry, absoluteTimeoutSeconds: maxAge };
  const coreCookie: Record<string, unknown> = { ...cookie };
  if (sameSite !== undefined) coreCookie.sameSite = typeof sameSite === 'string' ? sameSite.toLowerCase() : sameSite;
  const core = createCoreManager<AnySessionData, AnySessionData>({
    secrets: keyRing,
    cookie: coreCookie as CoreCookieOptions<string>,
    expiry,
    store,
    logger: options.logger,
    onEvent: options.onEvent,
  });

  const current = (context: SessionContext, method: string): SessionHandle => {
    const session = (context as Record<string, unknown>)?.[name];
    if (!(session instanceof SessionHandle)) {
      throw new SessionKitError('ERR_NO_CONTEXT', `${method}: no session on this context.`, {
        hint: 'Call `await sessionManager.extractSession(context, request)` first (the request function does it).',
      });
    }
    return session;
  };

  return {
    async extractSession(context, request) {
      if (typeof context !== 'object' || context === null) {
        throw configError('extractSession(): the context must be an object.');
      }
      const { session } = await core.load(request);
      defineValue(context, name, session);
      return context;
    },
    async injectSession(context, response) {
      const session = current(context, 'injectSession()');
      const cookies = await core.commit(session);
      const headers = response instanceof Headers ? response : response.headers;
      for (const line of cookies) headers.append('set-cookie', line);
      return cookies;
    },
    getValue<V = unknown>(context: SessionContext, key: string): V | undefined {
      const data = current(context, 'getValue()').data as AnySessionData;
      return Object.hasOwn(data, key) ? (data[key] as V) : undefined;
    },
    setValue(context, key, value) {
      (current(context, 'setValue()') as SessionHandle<AnySessionData>).set(key, value);
    },
    unsetValue(context, key) {
      const session = current(context, 'unsetValue()');
      if (!session.isDestroyed) session.unset(key);
    },
    destroyValues(context) {
      current(context, 'destroyValues()').destroy();
    },
    isModified(context) {
      return current(context, 'isModified()').isModified;
    },
    regenerate(context) {
      current(context, 'regenerate()').regenerate();
    },
    getSession(context) {
      return current(context, 'getSession()');
    },
  };
}

/**
 * The request hook: `(context, request) => manager.extractSession(context, request)`. Call it
 * before your handler (kit-http's `beforeFunctions` role).
 *
 * @example
 * ```ts
 * const loadSession = createSessionRequestFunction(sessionManager);
 * await loadSession(context, request);
 * ```
 */
export function createSessionRequestFunction(manager: SessionManager): SessionRequestFunction {
  return (context, request) => manager.extractSession(context, request);
}

/**
 * The response hook: `(context, response) => manager.injectSession(context, response)`. Call it
 * after your handler (kit-http's `afterFunctions` role).
 *
 * @example
 * ```ts
 * const saveSession = createSessionResponseFunction(sessionManager);
 * await saveSession(context, response);
 * ```
 */
export function createSessionResponseFunction(manager: SessionManager): SessionResponseFunction {
  return (context, response) => manager.injectSession(context, response);
}
