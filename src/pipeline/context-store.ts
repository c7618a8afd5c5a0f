/**
 * Request-scoped access to the current request state, so `getSession()` works anywhere in a
 * request without passing a context around. Uses `AsyncLocalStorage` where the runtime has it
 * (Node, Deno, Bun, workerd with nodejs_compat), found at run time (no static `node:` import), or
 * the app's own `runWithContext` / `getContextStore` pair.
 *
 * @module
 */
import type { RequestSessionState } from './state.ts';

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

/**
 * A context store on `AsyncLocalStorage`, or `undefined` when the runtime has none.
 *
 * @example
 * ```ts
 * const store = createAsyncLocalContextStore();
 * if (store) setContextStore(store);
 * ```
 */
export function createAsyncLocalContextStore(): ContextStore | undefined {
  const AsyncLocalStorage = findAsyncLocalStorage();
  if (AsyncLocalStorage === undefined) return undefined;
  const storage = new AsyncLocalStorage<RequestSessionState>();
  return { run: (state, fn) => storage.run(state, fn), get: () => storage.getStore() };
}

/**
 * Installs the context store used by `sessionkit/server` helpers. `createSessionkit()` installs
 * the one it is given; call this yourself only to replace it. Kept on `globalThis` so duplicated
 * module instances (dev servers) share it.
 *
 * @example
 * ```ts
 * setContextStore({ run: (state, fn) => storage.run(state, fn), get: () => storage.getStore() });
 * ```
 */
export function setContextStore(store: ContextStore): void {
  holder[storeKey] = store;
}

/** The installed context store, installing the `AsyncLocalStorage` one on first use. */
export function getContextStore(): ContextStore | undefined {
  holder[storeKey] ??= createAsyncLocalContextStore();
  return holder[storeKey];
}
