/**
 * The per-request session handle. The session itself is plain data (a record of id, times,
 * data and flash); behaviour lives on this handle, so a data key named `set` or `destroy`
 * can never collide with a method. Writes are tracked per key for the stores' merge logic.
 *
 * @module
 */
import { SessionKitError } from './errors.ts';

/**
 * The app's session types, declared once for every helper (`getSession()`, `requireSession()`,
 * `Astro.locals.sessionkit.session`, `createCookieSessionStorage()`, ...). Empty until the app
 * declares it by module augmentation, from a module that imports `sessionkit`:
 *
 * @example
 * ```ts
 * // src/sessionkit-types.ts
 * import type {} from 'sessionkit';
 *
 * declare module 'sessionkit' {
 *   interface SessionkitTypes {
 *     // Every key a session may hold (before sign-in, the user's are absent).
 *     data: { userId?: string; email?: string; role?: string; count: number };
 *     // Optional: what a signed-in session holds (setSession() takes it, requireSession() returns it).
 *     user: { userId: string; email: string; role: string };
 *     flash: { notice: string };
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the app's module augmentation
export interface SessionkitTypes {}

/** The constraint of session data: any object of JSON values. */
export type AnySessionData = Record<string, unknown>;

/** The type declared as `SessionkitTypes[Key]`, or `Fallback` when the app declared none. */
type Declared<Key extends string, Fallback> = SessionkitTypes extends { readonly [K in Key]: infer T extends object }
  ? T
  : Fallback;

/**
 * The app's session data: `SessionkitTypes['data']` when declared, else any object of JSON
 * values. A key declared without `?` is typed as always present, so give it a value in the
 * `defaults`.
 */
export type SessionData = Declared<'data', AnySessionData>;

/** The app's flash values: `SessionkitTypes['flash']` when declared, else any key. */
export type SessionFlashData = Declared<'flash', AnySessionData>;

/** The plain session record, as it is sealed into a cookie or kept in a store. */
export interface SessionRecord<Data extends object = AnySessionData, Flash extends object = AnySessionData> {
  /** Random 256-bit session id (base64url). Rotated by {@link SessionHandle.regenerate}. */
  id: string;
  /** When this session id was issued, in seconds since the epoch. */
  createdAt: number;
  /** When the record was last written (renewed), in seconds since the epoch. */
  renewedAt: number;
  /** Hard expiry, in seconds since the epoch: past it the record is rejected. */
  expiresAt: number;
  /** The session data. */
  data: Data;
  /** Read-once values. */
  flash: Partial<Flash>;
}

/** The data keys of a handle. */
export type SessionDataKey<Data extends object> = keyof Data & string;

/**
 * The flash keys `get()` accepts: the declared ones. With undeclared flash values (any key),
 * none, so a mistyped data key does not compile.
 */
export type SessionFlashKey<Flash extends object> = string extends keyof Flash ? never : keyof Flash & string;

/** What `get(key)` returns: the data value (and, for a declared flash key, its pending flash value). */
export type SessionValue<Data extends object, Flash extends object, Key extends string> =
  | (Key extends keyof Data ? Data[Key] : never)
  | (Key extends SessionFlashKey<Flash> ? Flash[Key] | undefined : never);

/** The data keys that may be absent (declared with `?`, or any key of undeclared data): `unset()` takes these. */
export type OptionalSessionDataKey<Data extends object> = {
  [Key in SessionDataKey<Data>]: undefined extends Data[Key] ? Key : never;
}[SessionDataKey<Data>];

/** Write tracking of one handle, read by the manager and the stores at commit. */
export interface SessionChanges {
  /** Keys set (data) since load. */
  readonly setKeys: ReadonlySet<string>;
  /** Keys unset (data) since load. */
  readonly unsetKeys: ReadonlySet<string>;
  /** True when flash values were written or consumed. */
  readonly flashChanged: boolean;
  /** The session id before {@link SessionHandle.regenerate}, when it was called. */
  readonly previousId: string | undefined;
  /** True after {@link SessionHandle.destroy}. */
  readonly destroyed: boolean;
}

/**
 * A new expiry window asked for during a request (see {@link restartSessionWindow}): the
 * session's own idle window in seconds, or `'policy'` for the configured idle timeout.
 */
export type SessionWindowRestart = number | 'policy';

interface SessionState<Data extends object, Flash extends object> {
  record: SessionRecord<Data, Flash>;
  isNew: boolean;
  setKeys: Set<string>;
  unsetKeys: Set<string>;
  flashChanged: boolean;
  previousId: string | undefined;
  destroyed: boolean;
  windowRestart: SessionWindowRestart | undefined;
  newId: () => string;
  nowSeconds: () => number;
  /** What the session manager that created the handle keeps about it (see {@link managerSlotOf}). */
  managerSlot: unknown;
}

const hasOwn = Object.hasOwn;

/**
 * The key set of a handle that has not written yet: shared, and never added to (a handle
 * swaps in its own set on its first write), so a read-only request allocates no sets.
 */
const noKeys: Set<string> = new Set();

/** Defines an own enumerable property, safe for keys such as `__proto__`. */
export function defineValue(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

// Filled in by the class's static block: gives the manager access to the private state.
let readState: <D extends object, F extends object>(session: SessionHandle<D, F>) => SessionState<D, F>;
// Same, but undefined for anything that is not a handle (values passed in by application code).
let readStateIfHandle: (value: unknown) => SessionState<AnySessionData, AnySessionData> | undefined;

/**
 * A session handle: the session's data and flash values, and what can be done with them. The
 * data itself is plain (`handle.data`); behaviour lives here, so a data key named `set` or
 * `destroy` never collides with a method. Obtain one from `getSession(request)` /
 * `manager.load()` / `Astro.locals.sessionkit.session`; write it back with `commitSession()` /
 * `manager.commit()` (the Astro integration commits for you).
 *
 * Keys are checked against the data type: the app's {@link SessionData} by default, or the type
 * given to `createCookieSessionStorage<Data>()`.
 *
 * @example
 * ```ts
 * const session = await getSession(request);
 * session.set('count', (count) => count + 1);
 * session.flash('notice', 'Saved');
 * const headers = { 'set-cookie': await commitSession(session) };
 * ```
 */
export class SessionHandle<Data extends object = SessionData, Flash extends object = SessionFlashData> {
  #state: SessionState<Data, Flash>;

  static {
    readState = (session) => session.#state as never;
    readStateIfHandle = (value) =>
      typeof value === 'object' && value !== null && #state in value
        ? ((value as SessionHandle<AnySessionData, AnySessionData>).#state as SessionState<
            AnySessionData,
            AnySessionData
          >)
        : undefined;
  }

  /** @internal Created by the session manager only. */
  constructor(record: SessionRecord<Data, Flash>, isNew: boolean, newId: () => string, nowSeconds: () => number) {
    this.#state = {
      record,
      isNew,
      setKeys: noKeys,
      unsetKeys: noKeys,
      flashChanged: false,
      previousId: undefined,
      destroyed: false,
      windowRestart: undefined,
      newId,
      nowSeconds,
      managerSlot: undefined,
    };
  }

  /** The session id (rotates on {@link regenerate}). Not a secret in cookie mode; never log store tokens. */
  get id(): string {
    return this.#state.record.id;
  }

  /** The session data, read-only. Write through {@link set} / {@link unset} so changes are tracked. */
  get data(): Readonly<Data> {
    return this.#state.record.data;
  }

  /** When this session id was issued (epoch seconds). */
  get createdAt(): number {
    return this.#state.record.createdAt;
  }

  /** When the session expires unless renewed (epoch seconds). */
  get expiresAt(): number {
    return this.#state.record.expiresAt;
  }

  /** True when no valid session came with the request. */
  get isNew(): boolean {
    return this.#state.isNew;
  }

  /** True after {@link destroy}. */
  get isDestroyed(): boolean {
    return this.#state.destroyed;
  }

  /** True when anything was written, a flash value was consumed, the id was rotated or the expiry window restarted. */
  get isModified(): boolean {
    const state = this.#state;
    return (
      state.setKeys.size > 0 ||
      state.unsetKeys.size > 0 ||
      state.flashChanged ||
      state.previousId !== undefined ||
      state.windowRestart !== undefined ||
      state.destroyed
    );
  }

  /**
   * Reads a value. A pending flash value of the same name is returned first and consumed
   * (Remix semantics); otherwise the data value, or `undefined`. The key must be a data key (or a
   * declared flash key): a mistyped key does not compile.
   *
   * @example
   * ```ts
   * const count = session.get('count');
   * ```
   */
  get<Key extends SessionDataKey<Data> | SessionFlashKey<Flash>>(key: Key): SessionValue<Data, Flash, Key> {
    const { record } = this.#state;
    if (hasOwn(record.flash, key)) return this.flash(key as keyof Flash & string) as SessionValue<Data, Flash, Key>;
    return (hasOwn(record.data, key) ? (record.data as AnySessionData)[key] : undefined) as SessionValue<
      Data,
      Flash,
      Key
    >;
  }

  /**
   * Updates a value from the current one. Returning `undefined` unsets the key (JSON has no
   * `undefined`, so it could not survive the round trip anyway).
   *
   * @example
   * ```ts
   * session.set('count', (count) => count + 1);
   * ```
   */
  set<Key extends SessionDataKey<Data>>(key: Key, update: (current: Data[Key]) => Data[Key]): void;
  /**
   * Sets a value. Setting `undefined` unsets the key.
   *
   * @example
   * ```ts
   * session.set('theme', 'dark');
   * ```
   */
  set<Key extends SessionDataKey<Data>>(key: Key, value: Data[Key]): void;
  set<Key extends SessionDataKey<Data>>(key: Key, value: Data[Key] | ((current: Data[Key]) => Data[Key])): void {
    const state = this.#assertWritable('set');
    const data = state.record.data as AnySessionData;
    const next =
      typeof value === 'function' ? (value as (current: Data[Key]) => Data[Key])(data[key] as Data[Key]) : value;
    if (next === undefined) {
      this.#unset(state, key);
      return;
    }
    defineValue(data, key, next);
    if (state.setKeys === noKeys) state.setKeys = new Set();
    state.setKeys.add(key);
    state.unsetKeys.delete(key);
  }

  /** Removes a value (a key the data type allows to be absent). */
  unset<Key extends OptionalSessionDataKey<Data>>(key: Key): void {
    this.#unset(this.#assertWritable('unset'), key);
  }

  /** True when the key holds a value (including falsy values) or a pending flash value. */
  has(key: SessionDataKey<Data> | SessionFlashKey<Flash>): boolean {
    const { record } = this.#state;
    return hasOwn(record.data, key) || hasOwn(record.flash, key);
  }

  /**
   * Stores a value for the next request only.
   *
   * @example
   * ```ts
   * session.flash('error', 'Invalid email or password'); // in the action
   * ```
   */
  flash<Key extends keyof Flash & string>(key: Key, value: Flash[Key]): void;
  /**
   * Reads a flash value and consumes it.
   *
   * @example
   * ```ts
   * const error = session.flash('error'); // on the next page: once, then gone
   * ```
   */
  flash<Key extends keyof Flash & string>(key: Key): Flash[Key] | undefined;
  flash<Key extends keyof Flash & string>(key: Key, ...rest: [Flash[Key]] | []): Flash[Key] | undefined {
    const state = this.#state;
    const flash = state.record.flash as AnySessionData;
    if (rest.length === 1) {
      this.#assertWritable('flash');
      defineValue(flash, key, rest[0]);
      state.flashChanged = true;
      return undefined;
    }
    if (!hasOwn(flash, key)) return undefined;
    const value = flash[key] as Flash[Key];
    delete flash[key];
    state.flashChanged = true;
    return value;
  }

  /**
   * Issues a new session id and keeps the data. Call it whenever privileges change
   * (sign-in, sign-out, role change) to defeat session fixation. The absolute lifetime is kept:
   * only a sign-in (`setSession`, or {@link restartSessionLifetime}) starts a new one.
   */
  regenerate(): void {
    const state = this.#assertWritable('regenerate');
    state.previousId ??= state.record.id;
    state.record.id = state.newId();
  }

  /** Ends the session: its data is dropped and the cookie (and store entry) deleted at commit. */
  destroy(): void {
    const state = this.#state;
    state.destroyed = true;
    state.record.data = {} as Data;
    state.record.flash = {};
  }

  /** Returns the session data as JSON (never the secret token). */
  toJSON(): Readonly<Data> {
    return this.#state.record.data;
  }

  #unset(state: SessionState<Data, Flash>, key: string): void {
    const data = state.record.data as AnySessionData;
    if (!hasOwn(data, key)) return;
    delete data[key];
    if (state.unsetKeys === noKeys) state.unsetKeys = new Set();
    state.unsetKeys.add(key);
    state.setKeys.delete(key);
  }

  #assertWritable(action: string): SessionState<Data, Flash> {
    if (this.#state.destroyed) {
      throw new SessionKitError('ERR_SESSION_DESTROYED', `Cannot ${action}() on a destroyed session.`, {
        hint: 'Load a new session (or call regenerate() before destroy()) to start over after sign-out.',
      });
    }
    return this.#state;
  }
}

/** @internal The record and change tracking of a handle, for the manager and stores. */
export function sessionRecordOf<D extends object, F extends object>(session: SessionHandle<D, F>): SessionRecord<D, F> {
  return readState(session).record;
}

/**
 * Starts a new absolute lifetime for the session (its issue time becomes now). For sign-in only:
 * a privilege change without re-authentication must keep the lifetime of the original sign-in.
 */
export function restartSessionLifetime<D extends object, F extends object>(session: SessionHandle<D, F>): void {
  const state = readState(session);
  state.record.createdAt = state.nowSeconds();
}

/**
 * Restarts the session's expiry window at its next commit: it then ends `ttlSeconds` after that
 * write (renewals extending it by as much when expiry is rolling), or after the configured idle
 * timeout when `ttlSeconds` is `undefined`; never after its absolute timeout. The window is kept
 * by later writes and renewals. Callers check `ttlSeconds` against the idle timeout.
 */
export function restartSessionWindow<D extends object, F extends object>(
  session: SessionHandle<D, F>,
  ttlSeconds?: number,
): void {
  const state = readState(session);
  state.windowRestart = ttlSeconds ?? 'policy';
}

/** @internal The expiry window asked for during this request, if any (see {@link restartSessionWindow}). */
export function sessionWindowRestartOf<D extends object, F extends object>(
  session: SessionHandle<D, F>,
): SessionWindowRestart | undefined {
  return readState(session).windowRestart;
}

/**
 * @internal The session manager's bookkeeping for a handle it created (cookie value, backend
 * state): kept on the handle rather than in a `WeakMap`, which costs the garbage collector on
 * every request. `undefined` for anything that is not a session handle.
 */
export function managerSlotOf(session: unknown): unknown {
  return readStateIfHandle(session)?.managerSlot;
}

/** @internal Sets the session manager's bookkeeping for a handle (see {@link managerSlotOf}). */
export function setManagerSlot<D extends object, F extends object>(session: SessionHandle<D, F>, slot: unknown): void {
  readState(session).managerSlot = slot;
}

/** @internal Clears change tracking after a successful commit. */
export function markSessionCommitted<D extends object, F extends object>(session: SessionHandle<D, F>): void {
  const state = readState(session);
  state.setKeys = noKeys;
  state.unsetKeys = noKeys;
  state.flashChanged = false;
  state.previousId = undefined;
  state.windowRestart = undefined;
  state.isNew = false;
}

/** @internal The changes made through a handle since it was loaded. */
export function sessionChangesOf<D extends object, F extends object>(session: SessionHandle<D, F>): SessionChanges {
  return readState(session);
}
