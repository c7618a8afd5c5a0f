/**
 * The demo's settings, read once from the environment of the server process.
 *
 * - `DEMO_DATA_DIR`: where the SQLite file lives (default `./data`, relative to the working
 *   directory; `npm start` passes `examples/demo/data`).
 * - `SESSIONKIT_DEMO_STORE`: `sqlite` (default, embedded) or `redis`.
 * - `REDIS_URL`: the Redis server for `redis` (default `redis://127.0.0.1:6379`).
 * - `SESSIONKIT_DEMO_REDIS_CLUSTER`: `host:port,host:port,...`, some nodes of a Redis Cluster:
 *   sessions go to that cluster (implies `SESSIONKIT_DEMO_STORE=redis`; `REDIS_URL` is unused).
 * - `SESSIONKIT_DEMO_REDIS_PREFIX`: key prefix in Redis (default `sessionkit-demo:`), so several
 *   demos or test runs can share one Redis.
 * - `SESSIONKIT_SECRET`: read by sessionkit itself (`npm start` generates one on first run).
 */
import { resolve } from 'node:path';
import accounts from '../../demo-accounts.json';

/** Where sessions are kept. */
export type StoreKind = 'sqlite' | 'redis' | 'redis-cluster';

/** A node of a Redis Cluster. */
export interface ClusterNodeAddress {
  host: string;
  port: number;
}

/** The nodes listed in SESSIONKIT_DEMO_REDIS_CLUSTER, or undefined when it is unset or empty. */
function readClusterNodes(): ClusterNodeAddress[] | undefined {
  const value = process.env.SESSIONKIT_DEMO_REDIS_CLUSTER?.trim();
  if (value === undefined || value === '') return undefined;
  return value.split(',').map((entry) => {
    // host:port, or [ipv6]:port
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[3]);
    if (match === null || port < 1 || port > 65_535) {
      throw new Error(
        `SESSIONKIT_DEMO_REDIS_CLUSTER must list cluster nodes as host:port,host:port,... (e.g. 127.0.0.1:7000,127.0.0.1:7001), got "${entry.trim()}".`,
      );
    }
    return { host: (match[1] ?? match[2]) as string, port };
  });
}

function readStoreKind(clusterNodes: ClusterNodeAddress[] | undefined): StoreKind {
  const value = (process.env.SESSIONKIT_DEMO_STORE ?? '').trim().toLowerCase();
  if (value !== '' && value !== 'sqlite' && value !== 'redis') {
    throw new Error(`SESSIONKIT_DEMO_STORE must be "sqlite" or "redis", got "${value}".`);
  }
  if (clusterNodes === undefined) return value === 'redis' ? 'redis' : 'sqlite';
  if (value === 'sqlite') {
    throw new Error(
      'SESSIONKIT_DEMO_STORE=sqlite and SESSIONKIT_DEMO_REDIS_CLUSTER are both set: unset one (the cluster setting alone selects Redis Cluster).',
    );
  }
  return 'redis-cluster';
}

/** Absolute path of the data folder. */
export const dataDir = resolve(process.env.DEMO_DATA_DIR ?? 'data');
/** The Redis Cluster nodes, for `storeKind === 'redis-cluster'`. */
export const redisClusterNodes: ClusterNodeAddress[] | undefined = readClusterNodes();
/** Where sessions are kept. */
export const storeKind: StoreKind = readStoreKind(redisClusterNodes);
/** How pages name the store. */
export const storeLabel = { sqlite: 'SQLite', redis: 'Redis', 'redis-cluster': 'Redis Cluster' }[storeKind];
/** The Redis server, for `storeKind === 'redis'`. */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Prefix of every Redis key the demo writes. */
export const redisPrefix = process.env.SESSIONKIT_DEMO_REDIS_PREFIX ?? 'sessionkit-demo:';
/** Shown in the footer, so two instances side by side can be told apart. */
export const instanceLabel = `port ${process.env.PORT ?? '4321'}`;

/** A seeded account. */
export interface DemoAccount {
  email: string;
  password: string;
  name: string;
  role: string;
  permissions: string[];
}

/** The demo admin and the demo user, seeded on first run and shown on the landing page. */
export const demoAccounts: { admin: DemoAccount; user: DemoAccount } = accounts;
