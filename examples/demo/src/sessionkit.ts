/**
 * sessionkit's runtime config: bundled into the server like any module, so the store with its
 * live client and the event hook (closures) belong here, not in astro.config.mjs.
 *
 * The secret comes from SESSIONKIT_SECRET (`npm start` creates one on first run and passes it).
 */
import { Redis } from 'ioredis';
import { defineSessionkit } from 'sessionkit/astro/config';
import { redisStore } from 'sessionkit/stores/redis';
import { sqliteStore } from 'sessionkit/stores/sqlite';
import { databasePath } from './lib/db.ts';
import { recordEvent } from './lib/events.ts';
import { redisPrefix, redisUrl, storeKind } from './lib/settings.ts';

async function createStore() {
  if (storeKind === 'sqlite') {
    // The embedded default: sessions in a table of the demo's own SQLite file.
    return sqliteStore({ database: databasePath });
  }
  // Client options recommended for the Redis store: pipeline concurrent commands, and fail fast
  // during an outage (sessionkit answers 503) instead of queueing requests.
  const client = new Redis(redisUrl, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    lazyConnect: true,
  });
  client.on('error', (error) => console.error(`[demo] redis: ${error.message}`));
  // Without an offline queue, commands sent before the connection is up fail: connect first, so
  // the first request after a start does not get a 503. (ioredis keeps retrying if this fails.)
  try {
    await client.connect();
  } catch (error) {
    console.error(`[demo] cannot reach Redis at ${redisUrl} yet: ${(error as Error).message}`);
  }
  return redisStore({ client, prefix: redisPrefix });
}

export default defineSessionkit({
  store: await createStore(),
  onEvent: recordEvent,
});
