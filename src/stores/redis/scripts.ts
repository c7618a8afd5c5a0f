/**
 * The Redis store's data layout and its Lua scripts. Every script touches exactly one key, so
 * each runs unchanged on a Redis Cluster (a script's keys must share a hash slot).
 *
 * A session document is JSON text with one entry per line pair: line 1 is `{"v":1`, then
 * `,"<name>"` and `:<json value>` for each entry (JSON allows the line break), then `}`. Lua
 * matches entry names as whole lines, so it never parses JSON (no number precision loss).
 *
 * A deleted session leaves a tombstone (the text {@link tombstone}) under its key until the
 * document would have expired: a late or repeated `create` of that id then writes nothing, so a
 * revoked id can never come back (see the module notes of `redis.ts`).
 *
 * @module
 */
import { createHash } from 'node:crypto';

/** The value a deleted session's key holds until its document would have expired. */
export const tombstone = 'revoked';

// Splits a document into its head line and its entries (name line, value line).
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

/** Lua sources by name. Each comment lists the script's KEYS and ARGV. */
export const scripts = {
  // KEYS[1] session; ARGV[1] pexpireat ms; ARGV[2] document. 0 when the id was revoked; a
  // create of an id that exists (a retried command) keeps what is there.
  create: `local current = redis.call('GET', KEYS[1])
if current == '${tombstone}' then return 0 end
if current then return 1 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[1])
return 1`,
  // KEYS[1] session; ARGV[1] pexpireat ms; ARGV[2] n; ARGV[3 .. 2+n] name/value pairs to set; then names to drop
  patch: `${luaEntries}
local blob = redis.call('GET', KEYS[1])
if not blob or blob == '${tombstone}' then return 0 end
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
redis.call('SET', KEYS[1], table.concat(out, '\\n'), 'PXAT', ARGV[1])
return 1`,
  // KEYS[1] session; ARGV[1] pexpireat ms: the id is dead from now on, whether or not a create of
  // it has run yet (a create that runs later finds the tombstone and writes nothing).
  bury: `redis.call('SET', KEYS[1], '${tombstone}', 'PXAT', ARGV[1])
return 1`,
  // KEYS[1] session: replaces a live document with a tombstone (same expiry). 0 when there was
  // none, 1 when it was anonymous, 2 when it belonged to a user.
  remove: `local blob = redis.call('GET', KEYS[1])
if not blob or blob == '${tombstone}' then return 0 end
redis.call('SET', KEYS[1], '${tombstone}', 'KEEPTTL')
if string.find(blob, '\\n,"u"\\n', 1, true) then return 2 end
return 1`,
  // KEYS[1] session; ARGV[1] ':' .. JSON of the user id. Removes the session only if it belongs
  // to the user: 1 removed now, 2 removed before (tombstone), 0 absent or another user's.
  removeIfOwner: `${luaEntries}
local blob = redis.call('GET', KEYS[1])
if not blob then return 0 end
if blob == '${tombstone}' then return 2 end
local _, list, at = entries(blob)
local index = at[',"u"']
if not index or list[index][2] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], '${tombstone}', 'KEEPTTL')
return 1`,
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

/** The name of one of the {@link scripts}. */
export type ScriptName = keyof typeof scripts;

/** SHA-1 of each script, for `EVALSHA`. */
export const sha1Of = Object.fromEntries(
  Object.entries(scripts).map(([name, source]) => [name, createHash('sha1').update(source).digest('hex')]),
) as Record<ScriptName, string>;

/** True for the error Redis answers to `EVALSHA` of a script it does not have (e.g. after a restart). */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** JSON text of a value (`null` for `undefined`). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Serialises a session document (see the layout above). */
export function encodeDocument(entries: readonly (readonly [string, unknown])[]): string {
  let text = '{"v":1';
  for (const [name, value] of entries) text += `\n,${JSON.stringify(name)}\n:${jsonText(value)}`;
  return `${text}\n}`;
}
