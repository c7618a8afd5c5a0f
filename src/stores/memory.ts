/**
 * An in-process session store for tests and single-process development: bounded by an LRU
 * limit and by each session's expiry, so it never grows without bound. Values are kept as JSON
 * text, so no request ever shares an object with another. Sessions vanish on restart and are
 * not shared between processes: use `sqliteStore` or `redisStore` in production.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { assertNumberInRange, assertOptionsObject } from '../core/options.ts';
import type { Clock } from '../core/runtime.ts';
import {
  applyPatch,
  infoOf,
  parseJsonObject,
  type SessionStore,
  type StoredSession,
  type StoredSessionInfo,
} from '../core/store.ts';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * At most this many sessions. Beyond it the least recently used anonymous session (no user id)
   * is evicted, and only when there is none, the least recently used signed-in one. Default 10 000.
   */
  maxEntries?: number;
  /** Clock in milliseconds, for expiry (default `Date.now`). */
  now?: Clock;
}

/** One stored session, flat (one object per session), with data and flash kept as JSON text. */
interface Entry extends Omit<StoredSession, 'data' | 'flash'> {
  readonly data: string;
  readonly flash: string;
}

/** The JSON text of no flash values, shared by every entry that has none. */
const noFlashText = '{}';

/** True when `flash` holds at least one value. */
function hasFlash(flash: StoredSession['flash']): boolean {
  for (const _key in flash) return true;
  return false;
}

/** The store returned by {@link memoryStore}: a {@link SessionStore} with a size. */
export interface MemoryStore extends SessionStore {
  /** Number of entries currently held (expired ones included until touched or swept). */
  readonly size: number;
  /** Drops expired entries now. */
  sweep(nowSeconds?: number): Promise<number>;
  /** The raw contents as JSON text (for debugging and tests): exactly what the store holds. */
  dump(): string;
  /** Drops every session; later calls reject. */
  dispose(): Promise<void>;
}

/**
 * Creates an in-memory session store (LRU + TTL).
 *
 * @example
 * ```ts
 * import { createSessionManager } from 'sessionkit';
 * import { memoryStore } from 'sessionkit/stores/memory';
 *
 * const sessions = createSessionManager({ secrets: process.env.SESSION_SECRET!, store: memoryStore() });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const where = 'memoryStore()';
  assertOptionsObject(options, ['maxEntries', 'now'], where);
  const maxEntries = options.maxEntries ?? 10_000;
  assertNumberInRange(maxEntries, 1, 100_000_000, `${where}: maxEntries`);
  if (options.now !== undefined && typeof options.now !== 'function')
    throw configError(`${where}: "now" must be a function.`);
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // A user's session ids: the id itself while there is one (most users), a Set from the second.
  const byUser = new Map<string, string | Set<string>>();
  // Sessions without a user (anonymous, e.g. only holding a CSRF token), least recently used
  // first: evicted before any signed-in session, so a flood of anonymous visits cannot push
  // signed-in users out.
  const anonymous = new Set<string>();
  let disposed = false;
  const assertOpen = (): void => {
    if (disposed) throw new Error('memory store: the store was disposed');
  };

  const nowSeconds = (): number => Math.floor(now() / 1000);

  const unindex = (id: string, userId: string | undefined): void => {
    if (userId === undefined) return;
    const ids = byUser.get(userId);
    if (ids === id) byUser.delete(userId);
    else if (typeof ids === 'object') {
      ids.delete(id);
      if (ids.size === 1) byUser.set(userId, ids.values().next().value as string);
    }
  };
  const index = (id: string, userId: string | undefined): void => {
    if (userId === undefined) return;
    const ids = byUser.get(userId);
    if (ids === undefined) byUser.set(userId, id);
    else if (typeof ids === 'object') ids.add(id);
    else if (ids !== id) byUser.set(userId, new Set([ids, id]));
  };
  /** The session ids of `userId`, as a list of its own. */
  const idsOf = (userId: string): string[] => {
    const ids = byUser.get(userId);
    return ids === undefined ? [] : typeof ids === 'string' ? [ids] : [...ids];
  };
  const remove = (id: string): boolean => {
    const entry = entries.get(id);
    if (entry === undefined) return false;
    entries.delete(id);
    anonymous.delete(id);
    unindex(id, entry.userId);
    return true;
  };
  /** The live entry, refreshed as most recently used; expired entries are dropped. */
  const live = (id: string): Entry | undefined => {
    assertOpen();
    const entry = entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= nowSeconds()) {
      remove(id);
      return undefined;
    }
    entries.delete(id);
    entries.set(id, entry);
    if (anonymous.delete(id)) anonymous.add(id);
    return entry;
  };
  const put = (session: StoredSession): void => {
    remove(session.id);
    entries.set(session.id, {
      id: session.id,
      secretHash: session.secretHash,
      userId: session.userId,
      createdAt: session.createdAt,
      renewedAt: session.renewedAt,
      expiresAt: session.expiresAt,
      userAgent: session.userAgent,
      ip: session.ip,
      data: JSON.stringify(session.data),
      flash: hasFlash(session.flash) ? JSON.stringify(session.flash) : noFlashText,
    });
    index(session.id, session.userId);
    if (session.userId === undefined) anonymous.add(session.id);
    while (entries.size > maxEntries) {
      const victim = (anonymous.values().next().value ?? entries.keys().next().value) as string;
      remove(victim);
    }
  };
  const materialize = (entry: Entry): StoredSession => ({
    ...entry,
    data: parseJsonObject(entry.data),
    flash: parseJsonObject(entry.flash),
  });

  return {
    name: 'memory',
    capabilities: { atomicPatch: true, userIndex: true, nativeTtl: true },
    get size() {
      return entries.size;
    },
    async get(id) {
      const entry = live(id);
      return entry === undefined ? undefined : materialize(entry);
    },
    async create(session, createOptions) {
      assertOpen();
      // Synchronous: the old entry goes and the new one comes with nothing in between.
      if (createOptions.replacing !== undefined && !remove(createOptions.replacing)) return false;
      put(session);
      return true;
    },
    async patch(id, patch) {
      const entry = live(id);
      if (entry === undefined) return false;
      put(applyPatch(materialize(entry), patch));
      return true;
    },
    async delete(id) {
      assertOpen();
      return remove(id);
    },
    async listByUser(userId, at) {
      assertOpen();
      const result: StoredSessionInfo[] = [];
      for (const id of idsOf(userId)) {
        const entry = entries.get(id);
        if (entry !== undefined && entry.expiresAt > at) result.push(infoOf(materialize(entry)));
      }
      return result.sort((a, b) => a.createdAt - b.createdAt);
    },
    async deleteByUser(userId, exceptId) {
      assertOpen();
      const deleted: string[] = [];
      for (const id of idsOf(userId)) {
        if (id !== exceptId && remove(id)) deleted.push(id);
      }
      return deleted;
    },
    dump() {
      return JSON.stringify([...entries.values()]);
    },
    async sweep(at = nowSeconds()) {
      assertOpen();
      let count = 0;
      for (const [id, entry] of entries) {
        if (entry.expiresAt <= at && remove(id)) count++;
      }
      return count;
    },
    async dispose() {
      disposed = true;
      entries.clear();
      byUser.clear();
      anonymous.clear();
    },
  };
}
