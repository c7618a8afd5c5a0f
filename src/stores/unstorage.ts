/**
 * A bridge to any unstorage driver (Cloudflare KV, Vercel KV, Netlify Blobs, fs, memory, ...).
 *
 * A plain key-value driver cannot give what the other stores give, and this store says so in
 * its `capabilities` (all false):
 * - **No atomic patch.** A patch reads the whole session, changes the keys, writes it back.
 *   Inside one store instance these read-modify-writes are serialised per session, so the
 *   requests one process handles never lose each other's keys; between instances (several
 *   servers, several isolates) the last writer of the session wins and may drop a key another
 *   instance wrote at the same moment.
 * - **No exact user index.** A user's session ids are one more item, read-modify-written the
 *   same way: a sign-in racing a "sign out everywhere" on another instance can be missed.
 *   Revoking one session by id is exact (the session item is deleted).
 * - **TTL only where the driver has one.** Items are written with `{ ttl }` (honoured by the
 *   redis, Cloudflare KV, Vercel KV and Upstash drivers); expired sessions are always refused by
 *   the manager, and `sweep()` (also run in the background every `sweepEveryWrites` creations
 *   when the driver can list keys; a failure is logged) deletes them for drivers without TTL, by
 *   listing keys: O(sessions).
 * - **`regenerate()` without a transaction.** The new session is written first, and the old one
 *   is removed only once that write succeeded, so a failed sign-in leaves the old session (and
 *   the cookie the user keeps) as it was. A removal that fails is retried in the background, as
 *   is the removal of a new session whose write failed (it may have landed).
 * - **Torn writes.** Some drivers (fs) do not write atomically: two processes writing one
 *   session at once can leave a broken item. It is then rejected like a tampered cookie (the
 *   user signs in again) and swept, never reported as an outage.
 * - **Eventual consistency** of the driver applies (Cloudflare KV: a revocation can take up to
 *   60 s to reach other locations).
 *
 * Values are written as text with a `sk1:` prefix so unstorage's JSON auto-parsing never
 * touches them (it would drop a `__proto__` data key).
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { createReporter, type Logger } from '../core/events.ts';
import { assertNumberInRange, assertOptionsObject } from '../core/options.ts';
import type { Clock } from '../core/runtime.ts';
import {
  applyPatch,
  infoOf,
  type SessionStore,
  type StoredSession,
  type StoredSessionInfo,
  StoredSessionUnreadable,
} from '../core/store.ts';
import { createBackgroundWork } from './background.ts';

/** The part of an unstorage `Storage` the store uses. */
export interface UnstorageLike {
  getItem(key: string): Promise<unknown>;
  setItem(key: string, value: string, options?: { ttl?: number }): Promise<void>;
  removeItem(key: string): Promise<void>;
  getKeys?(base?: string): Promise<string[]>;
}

/** Options of {@link unstorageStore}. */
export interface UnstorageStoreOptions {
  /** An unstorage `Storage` (`createStorage({ driver })`). */
  storage: UnstorageLike;
  /** Key prefix inside the storage. Default `sessionkit:`. */
  base?: string;
  /** Sweep expired sessions (in the background) after this many creations (drivers that can list keys). Default 500. */
  sweepEveryWrites?: number;
  /** Where the store logs what happens outside a request (failed sweeps, retried removals). Default: nowhere. */
  logger?: Logger;
  /** Clock in milliseconds (default `Date.now`). */
  now?: Clock;
}

/** The store returned by {@link unstorageStore}. */
export interface UnstorageStore extends SessionStore {
  /** Deletes expired sessions by listing keys (O(sessions)); returns how many. */
  sweep(nowSeconds?: number): Promise<number>;
  /** Stops the background work. The storage stays open: it is yours. */
  dispose(): Promise<void>;
}

const marker = 'sk1:';

function encode(value: unknown): string {
  return marker + JSON.stringify(value);
}

/** A stored item that is not ours or was torn by concurrent writers (e.g. the fs driver across processes). */
const corrupt = Symbol('corrupt');

function decode<T>(raw: unknown): T | undefined | typeof corrupt {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw !== 'string' || !raw.startsWith(marker)) return corrupt;
  try {
    return JSON.parse(raw.slice(marker.length)) as T;
  } catch {
    return corrupt;
  }
}

/**
 * Creates a session store over an unstorage `Storage`. Read the module notes for what a plain
 * key-value driver cannot guarantee.
 *
 * @example
 * ```ts
 * import { createStorage } from 'unstorage';
 * import cloudflareKVBindingDriver from 'unstorage/drivers/cloudflare-kv-binding';
 * import { unstorageStore } from 'sessionkit/stores/unstorage';
 *
 * const storage = createStorage({ driver: cloudflareKVBindingDriver({ binding: 'SESSIONS' }) });
 * const sessions = createSessionManager({ secrets: env.SESSION_SECRET, store: unstorageStore({ storage }) });
 * ```
 */
export function unstorageStore(options: UnstorageStoreOptions): UnstorageStore {
  const where = 'unstorageStore()';
  assertOptionsObject(options, ['storage', 'base', 'sweepEveryWrites', 'logger', 'now'], where);
  const storage = options?.storage;
  if (typeof storage?.getItem !== 'function' || typeof storage.setItem !== 'function') {
    throw configError(
      `${where}: "storage" must be an unstorage Storage.`,
      'Pass `storage: createStorage({ driver })`.',
    );
  }
  const base = options.base ?? 'sessionkit:';
  const sweepEveryWrites = options.sweepEveryWrites ?? 500;
  assertNumberInRange(sweepEveryWrites, 1, 1_000_000, `${where}: sweepEveryWrites`);
  const now = options.now ?? Date.now;
  const sessionKey = (id: string): string => `${base}s:${id}`;
  const userKey = (userId: string): string => `${base}u:${encodeURIComponent(userId)}`;
  const nowSeconds = (): number => Math.floor(now() / 1000);
  const locks = new Map<string, Promise<unknown>>();
  const background = createBackgroundWork('unstorage', createReporter({ logger: options.logger }));
  let createsSinceSweep = 0;
  let disposed = false;

  /** Serialises read-modify-writes of one key inside this instance. */
  const locked = <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    const next = previous.then(run, run);
    const settled = next.then(
      () => {},
      () => {},
    );
    locks.set(key, settled);
    void settled.then(() => {
      if (locks.get(key) === settled) locks.delete(key);
    });
    return next;
  };

  /** The live session, `undefined` when absent or expired, `corrupt` when unreadable. */
  const load = async (id: string): Promise<StoredSession | undefined | typeof corrupt> => {
    const session = decode<StoredSession>(await storage.getItem(sessionKey(id)));
    if (session === corrupt) return corrupt;
    return session === undefined || session.expiresAt <= nowSeconds() ? undefined : session;
  };
  const read = async (id: string): Promise<StoredSession | undefined> => {
    assertOpen();
    const session = await load(id);
    // A torn item is rejected like a tampered cookie (the user signs in again), never a 503 forever.
    if (session === corrupt) throw new StoredSessionUnreadable('tampered');
    return session;
  };
  const write = (session: StoredSession): Promise<void> =>
    storage.setItem(sessionKey(session.id), encode(session), { ttl: Math.max(1, session.expiresAt - nowSeconds()) });
  const readIndex = async (userId: string): Promise<Record<string, number>> => {
    const index = decode<Record<string, number>>(await storage.getItem(userKey(userId)));
    return index === undefined || index === corrupt ? {} : index;
  };
  const updateIndex = (userId: string, change: (index: Record<string, number>) => void): Promise<void> =>
    locked(userKey(userId), async () => {
      const index = await readIndex(userId);
      change(index);
      const current = nowSeconds();
      let newest = 0;
      for (const id of Object.keys(index)) {
        if ((index[id] as number) <= current) delete index[id];
        else newest = Math.max(newest, index[id] as number);
      }
      if (newest === 0) await storage.removeItem(userKey(userId));
      else await storage.setItem(userKey(userId), encode(index), { ttl: newest - current });
    });
  const assertOpen = (): void => {
    if (disposed) throw new Error('unstorage store: the store was disposed');
  };
  /** Removes a session item in the background, retrying until it is gone. */
  const removeLater = (id: string, what: string, failure: unknown): void => {
    background.retry(id, `removing ${what}`, failure, () =>
      locked(sessionKey(id), () => storage.removeItem(sessionKey(id))),
    );
  };
  const sweep = async (at: number): Promise<number> => {
    assertOpen();
    if (typeof storage.getKeys !== 'function') return 0;
    let count = 0;
    for (const key of await storage.getKeys(`${base}s`)) {
      const session = decode<StoredSession>(await storage.getItem(key));
      if (session === corrupt || (session !== undefined && session.expiresAt <= at)) {
        await storage.removeItem(key);
        count++;
      }
    }
    return count;
  };

  return {
    name: 'unstorage',
    capabilities: { atomicPatch: false, userIndex: false, nativeTtl: false },
    get: read,
    async create(session, createOptions) {
      assertOpen();
      const { replacing } = createOptions;
      /** Indexes and writes the new session; if the write fails, it is removed later (it may have landed). */
      const writeNew = async (): Promise<void> => {
        if (session.userId !== undefined) {
          await updateIndex(session.userId, (index) => {
            index[session.id] = createOptions.deadline;
          });
        }
        try {
          await locked(sessionKey(session.id), () => write(session));
        } catch (error) {
          removeLater(session.id, 'a new session whose write failed (it may have landed)', error);
          throw error;
        }
      };
      if (replacing === undefined) {
        await writeNew();
      } else {
        const created = await locked(sessionKey(replacing), async () => {
          if ((await storage.getItem(sessionKey(replacing))) === null) return false; // revoked meanwhile
          await writeNew();
          try {
            await storage.removeItem(sessionKey(replacing)); // only once the new session is written
          } catch (error) {
            removeLater(replacing, 'the session regenerate() replaced', error);
          }
          return true;
        });
        if (!created) return false;
      }
      if (++createsSinceSweep >= sweepEveryWrites) {
        createsSinceSweep = 0;
        background.start('sweep of expired sessions', async () => {
          await sweep(nowSeconds());
        });
      }
      return true;
    },
    async patch(id, patch) {
      assertOpen();
      return locked(sessionKey(id), async () => {
        const current = await load(id);
        if (current === undefined || current === corrupt) return false;
        if (patch.userId != null) {
          await updateIndex(patch.userId, (index) => {
            index[id] = patch.deadline ?? patch.expiresAt;
          });
        }
        await write(applyPatch(current, patch));
        if (patch.userId !== undefined && patch.previousUserId !== undefined) {
          await updateIndex(patch.previousUserId, (index) => {
            delete index[id];
          });
        }
        return true;
      });
    },
    async delete(id) {
      assertOpen();
      return locked(sessionKey(id), async () => {
        const existed = (await storage.getItem(sessionKey(id))) !== null;
        await storage.removeItem(sessionKey(id));
        return existed;
      });
    },
    async listByUser(userId, at) {
      assertOpen();
      const ids = Object.keys(await readIndex(userId));
      const sessions = (await Promise.all(ids.map(load))).map((session) => (session === corrupt ? undefined : session));
      const result: StoredSessionInfo[] = [];
      const stale: string[] = [];
      sessions.forEach((session, index) => {
        if (session?.userId === userId && session.expiresAt > at) result.push(infoOf(session));
        else if (session?.userId !== userId) stale.push(ids[index] as string);
      });
      if (stale.length > 0) {
        await updateIndex(userId, (index) => {
          for (const id of stale) delete index[id];
        });
      }
      return result.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },
    async deleteByUser(userId, exceptId) {
      assertOpen();
      const ids = Object.keys(await readIndex(userId)).filter((id) => id !== exceptId);
      const deleted: string[] = [];
      await Promise.all(
        ids.map((id) =>
          locked(sessionKey(id), async () => {
            const session = decode<StoredSession>(await storage.getItem(sessionKey(id)));
            if (session === corrupt || session?.userId !== userId) return;
            await storage.removeItem(sessionKey(id));
            deleted.push(id);
          }),
        ),
      );
      await updateIndex(userId, (index) => {
        for (const id of ids) delete index[id];
      });
      return deleted;
    },
    sweep: (at = nowSeconds()) => sweep(at),
    async dispose() {
      disposed = true;
      await background.stop();
    },
  };
}
