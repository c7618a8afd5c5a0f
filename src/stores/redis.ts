/**
 * The distributed session store: Redis (a single node, or a Redis Cluster) through the app's own
 * ioredis client (`Redis` or `Cluster`, ioredis 5).
 *
 * Layout (default prefix `sessionkit:`):
 * - `sessionkit:s:{<id>}`: one string per session, a JSON document with one entry per key (see
 *   `redis/scripts.ts`). Entry names: `h` secret hash, `u` user id, `c`/`r`/`e` created /
 *   renewed / expires (epoch seconds), `a` user agent, `i` ip, `d:<key>` one entry per data key,
 *   `f:<key>` one per flash key. Native TTL at `e`. A deleted session leaves the tombstone
 *   `revoked` under its key until `e`.
 * - `sessionkit:u:{<userId>}`: a sorted set of the user's session ids, scored by each session's
 *   absolute deadline; the key expires with its newest member.
 *
 * A read is one `GET` and one `JSON.parse`. A patch is one Lua script that replaces, adds or
 * drops only the changed entries' lines: atomic per session, merged per key.
 *
 * **Why the user index cannot lose a live session.** A session's key is derived from its id
 * alone (the cookie carries nothing else), and a user's index lives in the user's own hash slot,
 * so on a Cluster the two are in different slots and no script can write both. Instead of a
 * transaction, the store keeps one rule: an index entry is written *before* the session gets
 * that user id (sign-in, or a patch that sets the user), and is removed only when its session
 * can never be live again: its absolute deadline has passed, or its key holds a tombstone
 * (deleted ids stay dead: `create` refuses a tombstoned id, `patch` a tombstoned session). An
 * entry whose session is absent (not written yet, or expired idle) or belongs to another user
 * (a sign-in by patch not finished yet, or a session that moved on) is skipped when listing and
 * revoking, and kept until its deadline. So a listing or a revocation that runs between the
 * two steps of a sign-in leaves the entry in place, and the next revocation reaches the session.
 * The same code runs on a single node and on a Cluster.
 *
 * A `regenerate()` (sign-in) writes the new session first and removes the one it replaces only
 * then, so a failure in between leaves the user's current cookie working; a removal that fails
 * after the new session is stored is retried in the background (logged). A create that fails
 * (a deadline, a lost connection) may still run on the server later, so its id is tombstoned in
 * the background: no session lives that no cookie names.
 *
 * Every operation has an overall deadline (`operationTimeoutMs`), so the caller gets a 503 in
 * bounded time even while a Cluster shard fails over and the client retries.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { createReporter, type Logger } from '../core/events.ts';
import { assertNumberInRange, assertOptionsObject } from '../core/options.ts';
import type { Clock } from '../core/runtime.ts';
import {
  defineOwn,
  type SessionPatch,
  type SessionStore,
  type StoredSession,
  type StoredSessionInfo,
  StoredSessionsPartlyDeleted,
} from '../core/store.ts';
import { createBackgroundWork } from './background.ts';
import { createOperationRunner, type Deadline } from './redis/deadline.ts';
import { encodeDocument, isNoScript, jsonText, type ScriptName, scripts, sha1Of, tombstone } from './redis/scripts.ts';

/** The part of an ioredis pipeline the store uses with {@link RedisStoreOptions.waitForReplicas}. */
export interface RedisPipelineLike {
  exists(key: string): RedisPipelineLike;
  wait(replicas: number, timeoutMs: number): RedisPipelineLike;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/**
 * The part of an ioredis client (`Redis` or `Cluster`) the store uses. Any object with these
 * methods works (e.g. a small adapter over node-redis's `sendCommand`).
 */
export interface RedisClientLike {
  get(key: string): Promise<string | null>;
  evalsha(sha1: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Options of {@link RedisStoreOptions.waitForReplicas}. */
export interface WaitForReplicasOptions {
  /** How many replicas of the session's shard must have the revocation. */
  replicas: number;
  /** How long to wait for them (Redis `WAIT` timeout); must leave room within `operationTimeoutMs`. */
  timeoutMs: number;
  /**
   * A connection used only for revocations, e.g. `client.duplicate()` (yours to close). `WAIT`
   * blocks the connection it runs on: on the shared client every other request would queue
   * behind it, for up to `timeoutMs` when a replica is slow or down.
   */
  client: RedisClientLike & { pipeline(): RedisPipelineLike };
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster`. Recommended: `enableAutoPipelining: true` (throughput),
   * `enableOfflineQueue: false` and `maxRetriesPerRequest: 1` (fail fast during an outage
   * instead of queueing requests), `commandTimeout: 2000`. See docs/stores.md for a Cluster.
   */
  client: RedisClientLike;
  /** Key prefix. Default `sessionkit:`. */
  prefix?: string;
  /**
   * Overall time limit of one store operation, all its commands and the client's retries
   * included (a Cluster retries for seconds during a failover). Past it the operation fails
   * (HTTP 503). Default 1000 ms.
   */
  operationTimeoutMs?: number;
  /**
   * After each revocation of a user's session (`revokeSession`, `revokeUserSessions`, or
   * `destroy()` / `regenerate()` of a signed-in session), wait until `replicas` replicas of the
   * session's shard have it, at most `timeoutMs` (Redis `WAIT`, sent on `client`, a connection
   * of its own; the anonymous session a sign-in replaces waits for nothing). Without it, a
   * revocation acknowledged by a master that fails before replicating is lost on failover: the
   * revoked session is live again. With it, a revocation that did not reach enough replicas in
   * time fails (HTTP 503; the session is signed out on the master, and retrying is safe).
   */
  waitForReplicas?: WaitForReplicasOptions;
  /** Where the store logs what it does outside a request (a removal retried later). Default: nowhere. */
  logger?: Logger;
  /** Clock in milliseconds, used to prune user indexes (default `Date.now`). */
  now?: Clock;
}

/** The store returned by {@link redisStore}. */
export interface RedisStore extends SessionStore {
  /** The Redis key of a session (for inspection and tests). */
  sessionKey(id: string): string;
  /** The Redis key of a user's index. */
  userKey(userId: string): string;
  /**
   * Stops the removals retried in the background, refuses new operations and resolves once the
   * running ones have settled, so no timer of the store is left and the app can close its client.
   * The client itself is the app's: it stays open.
   */
  dispose(): Promise<void>;
}

type Document = Record<string, unknown>;

/**
 * A revocation applied on the master that fewer replicas than `waitForReplicas.replicas`
 * acknowledged in time: the session is signed out, but a failover could still bring it back.
 */
class RevocationNotReplicated extends Error {
  constructor(where: string, acknowledged: number, replicas: number, timeoutMs: number) {
    super(
      `${where}: the revocation reached ${acknowledged} of ${replicas} replica(s) within ${timeoutMs} ms (waitForReplicas); it is applied on the master, and retrying is safe.`,
    );
    this.name = 'RevocationNotReplicated';
  }
}

const movedReply = /^(MOVED|ASK) /;

/**
 * Creates a Redis session store over an ioredis client (single node or Cluster).
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { redisStore } from 'sessionkit/stores/redis';
 *
 * const client = new Redis(process.env.REDIS_URL!, {
 *   enableAutoPipelining: true,
 *   enableOfflineQueue: false,
 *   maxRetriesPerRequest: 1,
 *   commandTimeout: 2000,
 * });
 * const sessions = createSessionManager({ secrets: process.env.SESSION_SECRET!, store: redisStore({ client }) });
 * ```
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  const where = 'redisStore()';
  assertOptionsObject(options, ['client', 'prefix', 'operationTimeoutMs', 'waitForReplicas', 'logger', 'now'], where);
  const client = options?.client;
  if (typeof client?.get !== 'function' || typeof client.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw configError(
      `${where}: "client" must be an ioredis Redis or Cluster client.`,
      'Pass `client: new Redis(url)`, or `new Cluster(nodes)` for a Redis Cluster.',
    );
  }
  const prefix = options.prefix ?? 'sessionkit:';
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw configError(`${where}: "prefix" must be a string without "{" or "}" (they are hash tags).`);
  }
  const operationTimeoutMs = options.operationTimeoutMs ?? 1000;
  assertNumberInRange(operationTimeoutMs, 10, 60_000, `${where}: operationTimeoutMs`);
  const waitForReplicas = options.waitForReplicas;
  if (waitForReplicas !== undefined) {
    assertOptionsObject(waitForReplicas, ['replicas', 'timeoutMs', 'client'], `${where}: waitForReplicas`);
    assertNumberInRange(waitForReplicas.replicas, 1, 100, `${where}: waitForReplicas.replicas`);
    assertNumberInRange(waitForReplicas.timeoutMs, 1, operationTimeoutMs - 1, `${where}: waitForReplicas.timeoutMs`);
    if (typeof waitForReplicas.client?.pipeline !== 'function' || waitForReplicas.client === client) {
      throw configError(
        `${where}: waitForReplicas.client must be an ioredis connection of its own, not "client": WAIT blocks the connection it runs on.`,
        'Pass `waitForReplicas: { replicas, timeoutMs, client: client.duplicate() }`.',
      );
    }
  }
  const now = options.now ?? Date.now;
  const sessionKey = (id: string): string => `${prefix}s:{${id}}`;
  const userKey = (userId: string): string => `${prefix}u:{${userId}}`;
  const nowSeconds = (): number => Math.floor(now() / 1000);

  /** A `MOVED` reply reaches the store only from a plain client talking to a Cluster node. */
  const explain = (error: unknown): unknown =>
    error instanceof Error && movedReply.test(error.message)
      ? new Error(
          `${where}: Redis answered "${error.message}": the server is a Redis Cluster node. Pass an ioredis Cluster client (new Cluster([{ host, port }, ...])) instead of a Redis client.`,
          { cause: error },
        )
      : error;
  const operations = createOperationRunner(operationTimeoutMs, where, explain);
  const background = createBackgroundWork('redis', createReporter({ logger: options.logger }));

  const sendOn = async (
    connection: RedisClientLike,
    name: ScriptName,
    key: string,
    args: readonly (string | number)[],
  ): Promise<unknown> => {
    try {
      return await connection.evalsha(sha1Of[name], 1, key, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return connection.eval(scripts[name], 1, key, ...args);
    }
  };
  const send = (name: ScriptName, key: string, args: readonly (string | number)[]): Promise<unknown> =>
    sendOn(client, name, key, args);

  /**
   * Runs a deleting script (`remove`, `removeIfOwner`). With `waitForReplicas`, it runs on the
   * revocation connection and, when it signed a user's session out (`onApplied` is then called
   * at once), is followed there by `WAIT`: a pipeline goes to the node of its keyed command, so
   * the WAIT reaches the node, and the connection, that made the write. Deleting an anonymous
   * session (the old id of a sign-in's `regenerate()`) waits for nothing.
   */
  const revoke = async (
    deadline: Deadline,
    name: 'remove' | 'removeIfOwner',
    key: string,
    args: readonly string[],
    onApplied: () => void = () => {},
  ): Promise<number> => {
    if (waitForReplicas === undefined) return Number(await deadline.within(send(name, key, args)));
    const { replicas, timeoutMs, client: revocations } = waitForReplicas;
    const result = Number(await deadline.within(sendOn(revocations, name, key, args)));
    if (result !== (name === 'remove' ? 2 : 1)) return result; // no user was signed out: nothing to wait for
    onApplied();
    const replies = await deadline.within(revocations.pipeline().exists(key).wait(replicas, timeoutMs).exec());
    const [, [waitError, acknowledged] = [null, 0]] = replies ?? [];
    if (waitError !== null) throw waitError;
    if (Number(acknowledged) < replicas) {
      throw new RevocationNotReplicated(where, Number(acknowledged), replicas, timeoutMs);
    }
    return result;
  };

  /**
   * The second step of a `regenerate()`: removes the session the new one replaces, only once the
   * new one is stored, so that a failure before this point leaves the cookie the user holds
   * working. When that removal fails, the sign-in still succeeds and the old session is removed
   * in the background. When the old session was revoked meanwhile, the new one is removed too
   * (it must not outlive a revocation) and the answer is `false`.
   */
  const replaceOld = async (deadline: Deadline, oldId: string, newId: string): Promise<boolean> => {
    let removed: number;
    try {
      removed = await revoke(deadline, 'remove', sessionKey(oldId), []);
    } catch (error) {
      removeLater(oldId, 'the session regenerate() replaced', error);
      return true;
    }
    if (removed > 0) return true;
    try {
      await revoke(deadline, 'remove', sessionKey(newId), []);
    } catch (error) {
      removeLater(newId, 'a new session whose predecessor was revoked meanwhile', error);
    }
    return false;
  };

  /** Removes a session in the background, retrying until it is done (or the store is disposed). */
  const removeLater = (id: string, what: string, failure: unknown): void => {
    background.retry(id, `removing ${what}`, explain(failure), async () => {
      await operations.run('delete', (deadline) => revoke(deadline, 'remove', sessionKey(id), []));
    });
  };

  /**
   * Tombstones an id in the background, retrying until it is done: for a session whose create
   * failed with an unknown outcome (it may have been written, or may still be), which no cookie
   * will ever name. Its index entry then leaves at the next listing.
   */
  const buryLater = (id: string, expiresAtMs: number, failure: unknown): void => {
    background.retry(id, 'burying a new session whose create did not answer', explain(failure), async () => {
      await operations.run('delete', (deadline) => deadline.within(send('bury', sessionKey(id), [expiresAtMs])));
    });
  };

  const indexIds = async (deadline: Deadline, userId: string): Promise<string[]> =>
    (await deadline.within(send('indexList', userKey(userId), [nowSeconds()]))) as string[];

  const indexAdd = (deadline: Deadline, userId: string, id: string, score: number): Promise<unknown> =>
    deadline.within(send('indexAdd', userKey(userId), [id, score, nowSeconds()]));

  const parse = (text: string | null): Document | undefined =>
    text === null || text === tombstone ? undefined : (JSON.parse(text) as Document);

  /** The session a document holds, or `undefined` (absent, tombstone, or not a session). */
  const toSession = (id: string, text: string | null): StoredSession | undefined => {
    const document = parse(text);
    if (document === undefined || typeof document.h !== 'string') return undefined;
    const data: Record<string, unknown> = {};
    const flash: Record<string, unknown> = {};
    for (const name of Object.keys(document)) {
      const code = name.charCodeAt(0);
      if (name.charCodeAt(1) !== 58 /* : */) continue;
      const target = code === 100 /* d */ ? data : code === 102 /* f */ ? flash : undefined;
      if (target === undefined) continue;
      const key = name.slice(2);
      if (key === '__proto__') defineOwn(target, key, document[name]);
      else target[key] = document[name];
    }
    return {
      id,
      secretHash: document.h,
      userId: document.u as string | undefined,
      createdAt: document.c as number,
      renewedAt: document.r as number,
      expiresAt: document.e as number,
      data,
      flash,
      ...(document.a === undefined ? {} : { userAgent: document.a as string }),
      ...(document.i === undefined ? {} : { ip: document.i as string }),
    };
  };

  return {
    name: 'redis',
    capabilities: { atomicPatch: true, userIndex: true, nativeTtl: true },
    sessionKey,
    userKey,

    get(id) {
      return operations.single(
        'get',
        () => client.get(sessionKey(id)),
        (text) => toSession(id, text),
      );
    },

    create(session, createOptions) {
      return operations.run('create', async (deadline) => {
        const { replacing } = createOptions;
        // Index first: a live session is always reachable from its user's index.
        if (session.userId !== undefined) {
          await indexAdd(deadline, session.userId, session.id, Math.max(createOptions.deadline, session.expiresAt));
        }
        const entries: [string, unknown][] = [
          ['h', session.secretHash],
          ['c', session.createdAt],
          ['r', session.renewedAt],
          ['e', session.expiresAt],
        ];
        if (session.userId !== undefined) entries.push(['u', session.userId]);
        if (session.userAgent !== undefined) entries.push(['a', session.userAgent]);
        if (session.ip !== undefined) entries.push(['i', session.ip]);
        for (const key of Object.keys(session.data)) entries.push([`d:${key}`, session.data[key]]);
        for (const key of Object.keys(session.flash)) entries.push([`f:${key}`, session.flash[key]]);
        const args = [session.expiresAt * 1000, encodeDocument(entries)];
        let written: boolean;
        try {
          written = Number(await deadline.within(send('create', sessionKey(session.id), args))) === 1;
        } catch (error) {
          // A deadline gives up on the reply, not on the command: the create may still run. The
          // caller answers 503 and sends no cookie for this id, so it must never be live.
          buryLater(session.id, args[0] as number, error);
          throw error;
        }
        if (replacing === undefined || !written) return written;
        return replaceOld(deadline, replacing, session.id);
      });
    },

    patch(id, patch: SessionPatch) {
      const set: string[] = ['"r"', String(patch.renewedAt), '"e"', String(patch.expiresAt)];
      const removed: string[] = [];
      const setEntry = (name: string, value: unknown) => set.push(JSON.stringify(name), jsonText(value));
      const dropEntry = (name: string) => removed.push(JSON.stringify(name));
      for (const key of Object.keys(patch.setData)) setEntry(`d:${key}`, patch.setData[key]);
      for (const key of patch.unsetData) dropEntry(`d:${key}`);
      for (const key of Object.keys(patch.setFlash)) setEntry(`f:${key}`, patch.setFlash[key]);
      for (const key of patch.unsetFlash) dropEntry(`f:${key}`);
      const newOwner = patch.userId ?? undefined;
      if (patch.userId === null) dropEntry('u');
      else if (newOwner !== undefined) setEntry('u', newOwner);
      if (patch.metadata !== undefined) {
        if (patch.metadata.userAgent === undefined) dropEntry('a');
        else setEntry('a', patch.metadata.userAgent);
        if (patch.metadata.ip === undefined) dropEntry('i');
        else setEntry('i', patch.metadata.ip);
      }
      const args = [patch.expiresAt * 1000, set.length, ...set, ...removed];
      const applied = (reply: unknown) => Number(reply) === 1;
      if (newOwner === undefined) return operations.single('patch', () => send('patch', sessionKey(id), args), applied);
      return operations.run('patch', async (deadline) => {
        // Index first; the previous owner's entry is left to its deadline (see the module notes).
        await indexAdd(deadline, newOwner, id, Math.max(patch.deadline ?? patch.expiresAt, patch.expiresAt));
        return applied(await deadline.within(send('patch', sessionKey(id), args)));
      });
    },

    delete(id) {
      return operations.run('delete', async (deadline) => (await revoke(deadline, 'remove', sessionKey(id), [])) > 0);
    },

    listByUser(userId, at) {
      return operations.run('listByUser', async (deadline) => {
        const ids = await indexIds(deadline, userId);
        const texts = await deadline.within(Promise.all(ids.map((id) => client.get(sessionKey(id)))));
        const result: StoredSessionInfo[] = [];
        const dead: string[] = [];
        texts.forEach((text, index) => {
          const id = ids[index] as string;
          if (text === tombstone) dead.push(id);
          const document = parse(text);
          if (document?.u !== userId || (document.e as number) <= at) return;
          result.push({
            id,
            userId,
            createdAt: document.c as number,
            renewedAt: document.r as number,
            expiresAt: document.e as number,
            ...(document.a === undefined ? {} : { userAgent: document.a as string }),
            ...(document.i === undefined ? {} : { ip: document.i as string }),
          });
        });
        if (dead.length > 0) await deadline.within(send('indexRemove', userKey(userId), dead));
        return result.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
      });
    },

    deleteByUser(userId, exceptId) {
      return operations.run('deleteByUser', async (deadline) => {
        const ids = (await indexIds(deadline, userId)).filter((id) => id !== exceptId);
        const owner = `:${JSON.stringify(userId)}`;
        const deleted: string[] = [];
        // An id is recorded as deleted as soon as its script did it: a later failure (WAIT, the
        // deadline) does not undo that, and the caller is told.
        const outcomes = await Promise.allSettled(
          ids.map((id) => revoke(deadline, 'removeIfOwner', sessionKey(id), [owner], () => deleted.push(id))),
        );
        const dead: string[] = [];
        let failure: unknown;
        outcomes.forEach((outcome, index) => {
          const id = ids[index] as string;
          if (outcome.status === 'rejected') failure ??= outcome.reason;
          else {
            if (outcome.value === 1 && waitForReplicas === undefined) deleted.push(id);
            if (outcome.value > 0) dead.push(id);
          }
        });
        if (failure !== undefined) throw new StoredSessionsPartlyDeleted(deleted, explain(failure));
        try {
          if (dead.length > 0) await deadline.within(send('indexRemove', userKey(userId), dead));
        } catch (error) {
          throw new StoredSessionsPartlyDeleted(deleted, explain(error));
        }
        return deleted;
      });
    },

    dispose: async () => {
      await background.stop();
      await operations.dispose();
    },
  };
}
