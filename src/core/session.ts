/**
 * The per-request session handle. The session itself is plain data (a record of id, times,
 * data and flash); behaviour lives on this handle, so a data key named `set` or `destroy`
 * can never collide with a method. Writes are tracked per key for the stores' merge logic.
 *
 * @module
 */
import { SessionKitError } from './errors.ts';

/** Any JSON-compatible object shape used for session data. */
export type SessionData = Record<string, unknown>;

/** The plain session record, as it is sealed into a cookie or kept in a store. */
export interface SessionRecord<Data extends SessionData = SessionData, Flash extends SessionData = SessionData> {
  /** Random 256-bit session id (base64url). Rotated by {@link Session.regenerate}. */
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

/** A value or a function from the current value to the next one. */
export type ValueOrUpdater<T> = T | ((current: T) => T);

/** Write tracking of one handle, read by the manager and the stores at commit. */
export interface SessionChanges {
  /** Keys set (data) since load. */
  readonly setKeys: ReadonlySet<string>;
  /** Keys unset (data) since load. */
  readonly unsetKeys: ReadonlySet<string>;
  /** True when flash values were written or consumed. */
  readonly flashChanged: boolean;
  /** The session id before {@link Session.regenerate}, when it was called. */
  readonly previousId: string | undefined;
  /** True after {@link Session.destroy}. */
  readonly destroyed: boolean;
}

interface SessionState<Data extends SessionData, Flash extends SessionData> {
  record: SessionRecord<Data, Flash>;
  isNew: boolean;
  setKeys: Set<string>;
  unsetKeys: Set<string>;
  flashChanged: boolean;
  previousId: string | undefined;
  destroyed: boolean;
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
let readState: <D extends SessionData, F extends SessionData>(session: Session<D, F>) => SessionState<D, F>;
// Same, but undefined for anything that is not a handle (values passed in by application code).
let readStateIfHandle: (value: unknown) => SessionState<SessionData, SessionData> | undefined;

/**
 * A session handle. Obtain one from `getSession()` / `manager.load()`; write it back with
 * `commitSession()` / `manager.commit()` (the Astro integration commits for you).
 *
 * @example
 * ```ts
 * const session = await getSession(request);
 * session.set('count', (count) => count + 1);
 * session.flash('notice', 'Saved');
 * const headers = { 'set-cookie': await commitSession(session) };
 * ```
 */
export class Session<Data extends SessionData = SessionData, Flash extends SessionData = SessionData> {
  #state: SessionState<Data, Flash>;

  static {
    readState = (session) => session.#state as never;
    readStateIfHandle = (value) =>
      typeof value === 'object' && value !== null && #state in value ? (value as Session).#state : undefined;
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

  /** True when anything was written, a flash value was consumed, or the id was rotated. */
  get isModified(): boolean {
    const state = this.#state;
    return (
      state.setKeys.size > 0 ||
      state.unsetKeys.size > 0 ||
      state.flashChanged ||
      state.previousId !== undefined ||
      state.destroyed
    );
  }

  /**
   * Reads a value. A pending flash value of the same name is returned first and consumed
   * (Remix semantics); otherwise the data value, or `undefined`.
   */
  get<Key extends keyof Data & string>(key: Key): Data[Key] | undefined;
  get<Key extends keyof Flash & string>(key: Key): Flash[Key] | undefined;
  get(key: string): unknown {
    const { record } = this.#state;
    if (hasOwn(record.flash, key)) return this.flash(key as keyof Flash & string);
    return hasOwn(record.data, key) ? (record.data as SessionData)[key] : undefined;
  }

  /**
   * Sets a value, or updates it from the current one. Setting `undefined` unsets the key
   * (JSON has no `undefined`, so it could not survive the round trip anyway).
   *
   * @example
   * ```ts
   * session.set('theme', 'dark');
   * session.set('count', (count) => (count ?? 0) + 1);
   * ```
   */
  set<Key extends keyof Data & string>(key: Key, value: ValueOrUpdater<Data[Key]>): void {
    const state = this.#assertWritable('set');
    const data = state.record.data as SessionData;
    const next =
      typeof value === 'function' ? (value as (current: Data[Key]) => Data[Key])(data[key] as Data[Key]) : value;
    if (next === undefined) {
      this.unset(key);
      return;
    }
    defineValue(data, key, next);
    if (state.setKeys === noKeys) state.setKeys = new Set();
    state.setKeys.add(key);
    state.unsetKeys.delete(key);
  }

  /** Removes a value. */
  unset<Key extends keyof Data & string>(key: Key): void {
    const state = this.#assertWritable('unset');
    const data = state.record.data as SessionData;
    if (!hasOwn(data, key)) return;
    delete data[key];
    if (state.unsetKeys === noKeys) state.unsetKeys = new Set();
    state.unsetKeys.add(key);
    state.setKeys.delete(key);
  }

  /** True when the key holds a value (including falsy values) or a pending flash value. */
  has(key: string): boolean {
    const { record } = this.#state;
    return hasOwn(record.data, key) || hasOwn(record.flash, key);
  }

  /**
   * With a value: stores it for the next request only. Without: reads and consumes it.
   *
   * @example
   * ```ts
   * session.flash('error', 'Invalid email or password'); // in the action
   * const error = session.flash('error'); // on the next page: once, then gone
   * ```
   */
  flash<Key extends keyof Flash & string>(key: Key, value: Flash[Key]): void;
  flash<Key extends keyof Flash & string>(key: Key): Flash[Key] | undefined;
  flash<Key extends keyof Flash & string>(key: Key, ...rest: [Flash[Key]] | []): Flash[Key] | undefined {
    const state = this.#state;
    const flash = state.record.flash as SessionData;
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
export function sessionRecordOf<D extends SessionData, F extends SessionData>(
  session: Session<D, F>,
): SessionRecord<D, F> {
  return readState(session).record;
}

/**
 * Starts a new absolute lifetime for the session (its issue time becomes now). For sign-in only:
 * a privilege change without re-authentication must keep the lifetime of the original sign-in.
 */
export function restartSessionLifetime(session: Session<SessionData, SessionData>): void {
  const state = readState(session);
  state.record.createdAt = state.nowSeconds();
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
export function setManagerSlot(session: Session<SessionData, SessionData>, slot: unknown): void {
  readState(session).managerSlot = slot;
}

/** @internal Clears change tracking after a successful commit. */
export function markSessionCommitted(session: Session<SessionData, SessionData>): void {
  const state = readState(session);
  state.setKeys = noKeys;
  state.unsetKeys = noKeys;
  state.flashChanged = false;
  state.previousId = undefined;
  state.isNew = false;
}

/** @internal The changes made through a handle since it was loaded. */
export function sessionChangesOf(session: Session<SessionData, SessionData>): SessionChanges {
  return readState(session);
}
