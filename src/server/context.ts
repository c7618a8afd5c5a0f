/**
 * Request-scoped access to the current session, so `getSession()` works anywhere in a request
 * without passing the context around. Uses `AsyncLocalStorage` where the runtime has it
 * (Node, Deno, Bun, workerd with nodejs_compat), or the app's own `runWithContext` /
 * `getContextStore` pair.
 *
 * @module
 */
import type { SessionManager } from '../core/manager.ts';
import type { Session, SessionData } from '../core/session.ts';
import type { AccessHooks } from '../guard/rules.ts';

/** What sessionkit keeps per request. Also available as `context.locals.sessionkit`. */
export interface RequestSessionState<Data extends SessionData = SessionData> {
  /** The session handle of this request. */
  session: Session<Data>;
  /** The session manager that loaded it (used to rotate or revoke). */
  readonly manager: SessionManager<Data>;
  /** Role and permission extraction configured for the app. */
  readonly access: AccessHooks<Data> | undefined;
  /** The CSRF token for forms and fetch calls in this request (`''` when CSRF protection is off). */
  readonly csrfToken: string;
  /** True when the session store could not be reached: the session is empty and will not be saved. */
  readonly storeUnavailable: boolean;
  /** Sessions replaced during this request (cleared, then signed in again): committed before `session`. */
  readonly retired: Session<Data>[];
  /** Session work started without `await` by the app; the middleware waits for it before committing. */
  readonly pending: Promise<unknown>[];
}

/** Runs `fn` with `state` as the current request state. */
export type RunWithContext = <T>(state: RequestSessionState, fn: () => T) => T;
/** Returns the current request state, if any. */
export type GetContextStore = () => RequestSessionState | undefined;

/** A context store: how request state is propagated through async calls. */
export interface ContextStore {
  readonly run: RunWithContext;
  readonly get: GetContextStore;
}

interface AsyncLocalStorageLike<T> {
  run<R>(store: T, fn: () => R): R;
  getStore(): T | undefined;
}
type AsyncLocalStorageClass = new <T>() => AsyncLocalStorageLike<T>;

function findAsyncLocalStorage(): AsyncLocalStorageClass | undefined {
  const global = globalThis as {
    AsyncLocalStorage?: AsyncLocalStorageClass;
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  if (typeof global.AsyncLocalStorage === 'function') return global.AsyncLocalStorage;
  const hooks = global.process?.getBuiltinModule?.('node:async_hooks') as
    | { AsyncLocalStorage?: AsyncLocalStorageClass }
    | undefined;
  return hooks?.AsyncLocalStorage;
}

const storeKey = Symbol.for('sessionkit.context-store');
const holder = globalThis as { [storeKey]?: ContextStore };

/** A context store on `AsyncLocalStorage`, or `undefined` when the runtime has none. */
export function createAsyncLocalContextStore(): ContextStore | undefined {
  const AsyncLocalStorage = findAsyncLocalStorage();
  if (AsyncLocalStorage === undefined) return undefined;
  const storage = new AsyncLocalStorage<RequestSessionState>();
  return { run: (state, fn) => storage.run(state, fn), get: () => storage.getStore() };
}

/**
 * Installs the context store used by `sessionkit/server` helpers. The Astro integration calls
 * this once; other servers call it with their own pair if they lack `AsyncLocalStorage`.
 * Kept on `globalThis` so duplicated module instances (dev servers) share it.
 */
export function setContextStore(store: ContextStore): void {
  holder[storeKey] = store;
}

/** The installed context store, installing the `AsyncLocalStorage` one on first use. */
export function getContextStore(): ContextStore | undefined {
  holder[storeKey] ??= createAsyncLocalContextStore();
  return holder[storeKey];
}
