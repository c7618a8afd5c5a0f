// The hand-written minimum for a session in Redis: one key per random id, one GET per request,
// on the same client options as the sessionkit variant.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

const client = new Redis({
  host: '127.0.0.1',
  port: Number(process.env.BENCH_REDIS_PORT ?? 6379),
  enableAutoPipelining: true,
  maxRetriesPerRequest: 1,
});
const prefix = `${process.env.BENCH_REDIS_PREFIX ?? 'sessionkit-bench-http:'}raw:`;

/** The session data of `id`, or undefined. */
export async function readSession(id) {
  if (id === undefined) return undefined;
  const blob = await client.get(prefix + id);
  return blob === null ? undefined : JSON.parse(blob);
}

/** Stores `data` under a new random id (one day) and returns the id. */
export async function createSession(data) {
  const id = randomBytes(32).toString('base64url');
  await client.set(prefix + id, JSON.stringify(data), 'EX', 86400);
  return id;
}
