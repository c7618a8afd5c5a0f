/**
 * sessionkit's runtime config: bundled into the server like any module, so the store with its
 * live client and the event hook (closures) belong here, not in astro.config.mjs.
 *
 * The secret comes from SESSIONKIT_SECRET (`npm start` creates one on first run and passes it).
 * Sessions: SQLite by default, Redis with SESSIONKIT_DEMO_STORE=redis, a Redis Cluster with
 * SESSIONKIT_DEMO_REDIS_CLUSTER=host:port,... (see lib/settings.ts).
 */
import { Cluster, Redis } from 'ioredis';
import { defineSessionkit } from 'sessionkit/astro/config';
import { redisStore } from 'sessionkit/stores/redis';
import { sqliteStore } from 'sessionkit/stores/sqlite';
import { databasePath } from './lib/db.ts';
import { recordEvent } from './lib/events.ts';
import { redisClusterNodes, redisPrefix, redisUrl, storeKind } from './lib/settings.ts';

const clusterSetting = `SESSIONKIT_DEMO_REDIS_CLUSTER=${process.env.SESSIONKIT_DEMO_REDIS_CLUSTER?.trim()}`;

/** A Redis Cluster client with the options docs/stores.md recommends; its errors say what to change. */
function clusterClient(): Cluster {
  const client = new Cluster(redisClusterNodes ?? [], {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    lazyConnect: true,
    redisOptions: { connectTimeout: 1000, commandTimeout: 1000, maxRetriesPerRequest: 1 },
  });
  client.on('error', (error: Error & { lastNodeError?: Error }) => {
    const detail = error.lastNodeError ? `${error.message} (${error.lastNodeError.message})` : error.message;
    const hint = /cluster support disabled/i.test(detail)
      ? ' These servers are not Redis Cluster nodes: use SESSIONKIT_DEMO_STORE=redis with REDIS_URL=redis://host:port instead.'
      : '';
    console.error(`[demo] Redis Cluster at ${clusterSetting}: ${detail}.${hint}`);
  });
  return client;
}

/** A single-node Redis client; warns loudly when the server is in fact a Cluster node. */
function redisClient(): Redis {
  const client = new Redis(redisUrl, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    lazyConnect: true,
  });
  client.on('error', (error) => console.error(`[demo] redis: ${error.message}`));
  client.on('ready', () => {
    // A plain client can use only the slots of this one node: most sessions would fail with MOVED.
    client.info('cluster').then(
      (info) => {
        if (!/^cluster_enabled:1/m.test(info)) return;
        const { host, port } = new URL(redisUrl);
        console.error(
          `[demo] REDIS_URL=${redisUrl} is a node of a Redis Cluster: most sign-ins would fail (503). Set SESSIONKIT_DEMO_REDIS_CLUSTER=${host}:${port || 6379} (any nodes of the cluster, comma-separated) instead.`,
        );
      },
      () => {},
    );
  });
  return client;
}

async function createStore() {
  if (storeKind === 'sqlite') {
    // The embedded default: sessions in a table of the demo's own SQLite file.
    return sqliteStore({ database: databasePath });
  }
  // Client options recommended for the Redis store: pipeline concurrent commands, and fail fast
  // during an outage (sessionkit answers 503) instead of queueing requests.
  const client = storeKind === 'redis-cluster' ? clusterClient() : redisClient();
  // Without an offline queue, commands sent before the connection is up fail: connect first, so
  // the first request after a start does not get a 503. (ioredis keeps retrying if this fails.)
  try {
    await client.connect();
  } catch (error) {
    const where = storeKind === 'redis-cluster' ? clusterSetting : redisUrl;
    console.error(`[demo] cannot reach Redis at ${where} yet: ${(error as Error).message}`);
  }
  return redisStore({ client, prefix: redisPrefix });
}

// No `logger`: in an Astro app sessionkit writes its warnings and errors to the server console by
// default, one line each (a store failure names its cause, a refused CSRF check its reason and fix).
export default defineSessionkit({
  store: await createStore(),
  onEvent: recordEvent,
});
