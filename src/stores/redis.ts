/**
 * The distributed session store: Redis (a single node, or a Redis Cluster) through the app's own
 * ioredis client (`Redis` or `Cluster`, ioredis 5).
 *
 * Layout (default prefix `sessionkit:`):
 * - `sessionkit:s:{<id>}`: one string per session, JSON text with one entry per key, each entry
 *   on two lines (`,"<name>"` then `:<json value>`; JSON allows the line break). Entry names:
 *   `h` secret hash, `u` user id, `c`/`r`/`e` created / renewed / expires (epoch seconds), `a`
 *   user agent, `i` ip, `d:<key>` one entry per data key, `f:<key>` one per flash key.
 *   Native TTL: `PEXPIREAT` at `e`.
 * - `sessionkit:u:{<userId>}`: a sorted set of the user's session ids, scored by each session's
 *   absolute deadline; the key expires with its newest member.
 *
 * A read is one `GET` and one `JSON.parse` (one round trip, the same cost as a raw client). A
 * patch is one Lua script that replaces, adds or drops only the changed entries' lines: atomic
 * per session, merged per key, without JSON parsing in Lua (no number precision loss). No script
 * touches two keys, so the store works unchanged on a Cluster. The cookie carries only the
 * session id, so a session's key (and slot) is derived from the id alone; a user's index lives in
 * the user's own slot and is written *before* the session on sign-in, so every live session is
 * always reachable from its user's index (stale entries are pruned when listed).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { configError } from '../core/errors.ts';
import { assertOptionsObject } from '../core/options.ts';
import type { Clock } from '../core/runtime.ts';
import {
  defineOwn,
  type SessionPatch,
  type SessionStore,
  type StoredSession,
  type StoredSessionInfo,
} from '../core/store.ts';

/**
 * The part of an ioredis client (`Redis` or `Cluster`) the store uses. Any object with these
 * methods works (e.g. a small adapter over node-redis's `sendCommand`).
 */
export interface RedisClientLike {
  get(key: string): Promise<string | null>;
  evalsha(sha1: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster`. Recommended: `enableAutoPipelining: true` (throughput),
   * `enableOfflineQueue: false` and `maxRetriesPerRequest: 1` (fail fast during an outage
   * instead of queueing requests), `commandTimeout: 2000`.
   */
  client: RedisClientLike;
  /** Key prefix. Default `sessionkit:`. */
  prefix?: string;
  /** Clock in milliseconds, used to prune user indexes (default `Date.now`). */
  now?: Clock;
}

/** The store returned by {@link redisStore}. */
export interface RedisStore extends SessionStore {
  /** The Redis key of a session (for inspection and tests). */
  sessionKey(id: string): string;
  /** The Redis key of a user's index. */
  userKey(userId: string): string;
}

// Entries of a session document: line 1 is '{"v":1', then pairs of lines ',"name"' and ':value',
// then '}'. Lua matches entry names as whole lines, so it never parses JSON.
const luaEntries = `
local function entries(blob)
  local lines = {}
  for line in string.gmatch(blob, '[^\\n]+') do lines[#lines + 1] = line end
  local list, at = {}, {}
  for i = 2, #lines - 1, 2 do
    list[#list + 1] = { lines[i], lines[i + 1] }
    at[lines[i]] = #list
  end
  return lines[1], list, at
end
`;

const scripts = {
  // KEYS[1] session; ARGV[1] pexpireat ms; ARGV[2] document
  create: `redis.call('SET', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1`,
  // KEYS[1] session; ARGV[1] pexpireat ms; ARGV[2] n; ARGV[3 .. 2+n] name/value pairs to set; then names to drop
  patch: `${luaEntries}
local blob = redis.call('GET', KEYS[1])
if not blob then return 0 end
local head, list, at = entries(blob)
local n = tonumber(ARGV[2])
for i = 3, 2 + n, 2 do
  local name, value = ',' .. ARGV[i], ':' .. ARGV[i + 1]
  local index = at[name]
  if index then list[index][2] = value else list[#list + 1] = { name, value }; at[name] = #list end
end
for i = 3 + n, #ARGV do
  local index = at[',' .. ARGV[i]]
  if index then list[index] = false end
end
local out = { head }
for _, entry in ipairs(list) do
  if entry then out[#out + 1] = entry[1]; out[#out + 1] = entry[2] end
end
out[#out + 1] = '}'
redis.call('SET', KEYS[1], table.concat(out, '\\n'))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1`,
  // KEYS[1] session
  remove: `return redis.call('DEL', KEYS[1])`,
  // KEYS[1] session; ARGV[1] ':' .. JSON of the user id: deletes the session only if it still belongs to the user
  removeIfOwner: `${luaEntries}
local blob = redis.call('GET', KEYS[1])
if not blob then return 0 end
local _, list, at = entries(blob)
local index = at[',"u"']
if index and list[index][2] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  // KEYS[1] index; ARGV[1] id; ARGV[2] deadline (s); ARGV[3] now (s)
  indexAdd: `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('EXPIREAT', KEYS[1], newest[2])
return 1`,
  // KEYS[1] index; ARGV[1] now (s): prunes past deadlines and lists the ids
  indexList: `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)`,
  // KEYS[1] index; ARGV ids to remove
  indexRemove: `return redis.call('ZREM', KEYS[1], unpack(ARGV))`,
} as const;

type ScriptName = keyof typeof scripts;

const sha1Of = Object.fromEntries(
  Object.entries(scripts).map(([name, source]) => [name, createHash('sha1').update(source).digest('hex')]),
) as Record<ScriptName, string>;

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Serialises a session document (see the layout above). */
function encodeDocument(entries: [string, unknown][]): string {
  let text = '{"v":1';
  for (const [name, value] of entries) text += `\n,${JSON.stringify(name)}\n:${jsonText(value)}`;
  return `${text}\n}`;
}

type Document = Record<string, unknown>;

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
  assertOptionsObject(options, ['client', 'prefix', 'now'], where);
  const client = options?.client;
  if (typeof client?.get !== 'function' || typeof client.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw configError(
      `${where}: "client" must be an ioredis Redis or Cluster client.`,
      'Pass `client: new Redis(url)`.',
    );
  }
  const prefix = options.prefix ?? 'sessionkit:';
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw configError(`${where}: "prefix" must be a string without "{" or "}" (they are hash tags).`);
  }
  const now = options.now ?? Date.now;
  const sessionKey = (id: string): string => `${prefix}s:{${id}}`;
  const userKey = (userId: string): string => `${prefix}u:{${userId}}`;
  const nowSeconds = (): number => Math.floor(now() / 1000);

  const run = async (name: ScriptName, key: string, args: (string | number)[]): Promise<unknown> => {
    try {
      return await client.evalsha(sha1Of[name], 1, key, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(scripts[name], 1, key, ...args);
    }
  };

  const indexAdd = (userId: string, id: string, deadline: number): Promise<unknown> =>
    run('indexAdd', userKey(userId), [id, deadline, nowSeconds()]);

  const indexIds = async (userId: string): Promise<string[]> =>
    (await run('indexList', userKey(userId), [nowSeconds()])) as string[];

  const readDocument = async (id: string): Promise<Document | undefined> => {
    const text = await client.get(sessionKey(id));
    return text === null ? undefined : (JSON.parse(text) as Document);
  };

  return {
    name: 'redis',
    capabilities: { atomicPatch: true, userIndex: true, nativeTtl: true },
    sessionKey,
    userKey,

    async get(id) {
      const document = await readDocument(id);
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
      const session: StoredSession = {
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
      return session;
    },

    async create(session, createOptions) {
      if (createOptions.replacing !== undefined) {
        if (Number(await run('remove', sessionKey(createOptions.replacing), [])) === 0) return false;
      }
      if (session.userId !== undefined) await indexAdd(session.userId, session.id, createOptions.deadline);
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
      await run('create', sessionKey(session.id), [session.expiresAt * 1000, encodeDocument(entries)]);
      return true;
    },

    async patch(id, patch: SessionPatch) {
      const set: string[] = ['"r"', String(patch.renewedAt), '"e"', String(patch.expiresAt)];
      const removed: string[] = [];
      const setEntry = (name: string, value: unknown) => set.push(JSON.stringify(name), jsonText(value));
      const dropEntry = (name: string) => removed.push(JSON.stringify(name));
      for (const key of Object.keys(patch.setData)) setEntry(`d:${key}`, patch.setData[key]);
      for (const key of patch.unsetData) dropEntry(`d:${key}`);
      for (const key of Object.keys(patch.setFlash)) setEntry(`f:${key}`, patch.setFlash[key]);
      for (const key of patch.unsetFlash) dropEntry(`f:${key}`);
      if (patch.userId !== undefined) {
        if (patch.userId === null) dropEntry('u');
        else {
          // Index first: a live session is always reachable from its user's index.
          await indexAdd(patch.userId, id, patch.deadline ?? patch.expiresAt);
          setEntry('u', patch.userId);
        }
      }
      if (patch.metadata !== undefined) {
        if (patch.metadata.userAgent === undefined) dropEntry('a');
        else setEntry('a', patch.metadata.userAgent);
        if (patch.metadata.ip === undefined) dropEntry('i');
        else setEntry('i', patch.metadata.ip);
      }
      const args = [patch.expiresAt * 1000, set.length, ...set, ...removed];
      const patched = Number(await run('patch', sessionKey(id), args)) === 1;
      if (patched && patch.userId !== undefined && patch.previousUserId !== undefined) {
        await run('indexRemove', userKey(patch.previousUserId), [id]);
      }
      return patched;
    },

    async delete(id) {
      return Number(await run('remove', sessionKey(id), [])) > 0;
    },

    async listByUser(userId, at) {
      const ids = await indexIds(userId);
      const documents = await Promise.all(ids.map(readDocument));
      const result: StoredSessionInfo[] = [];
      const stale: string[] = [];
      documents.forEach((document, index) => {
        const id = ids[index] as string;
        if (document?.u !== userId) {
          stale.push(id);
          return;
        }
        if ((document.e as number) <= at) return;
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
      if (stale.length > 0) await run('indexRemove', userKey(userId), stale);
      return result.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },

    async deleteByUser(userId, exceptId) {
      const ids = (await indexIds(userId)).filter((id) => id !== exceptId);
      const owner = `:${JSON.stringify(userId)}`;
      const results = await Promise.all(ids.map((id) => run('removeIfOwner', sessionKey(id), [owner])));
      if (ids.length > 0) await run('indexRemove', userKey(userId), ids);
      return ids.filter((_, index) => Number(results[index]) > 0);
    },
  };
}
