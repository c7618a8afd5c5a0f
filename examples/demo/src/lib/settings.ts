/**
 * The demo's settings, read once from the environment of the server process.
 *
 * - `DEMO_DATA_DIR`: where the SQLite file lives (default `./data`, relative to the working
 *   directory; `npm start` passes `examples/demo/data`).
 * - `SESSIONKIT_DEMO_STORE`: `sqlite` (default, embedded) or `redis`.
 * - `REDIS_URL`: the Redis server for `redis` (default `redis://127.0.0.1:6379`).
 * - `SESSIONKIT_DEMO_REDIS_PREFIX`: key prefix in Redis (default `sessionkit-demo:`), so several
 *   demos or test runs can share one Redis.
 * - `SESSIONKIT_SECRET`: read by sessionkit itself (`npm start` generates one on first run).
 */
import { resolve } from 'node:path';
import accounts from '../../demo-accounts.json';

export type StoreKind = 'sqlite' | 'redis';

function readStoreKind(): StoreKind {
  const value = (process.env.SESSIONKIT_DEMO_STORE ?? 'sqlite').trim().toLowerCase();
  if (value === '' || value === 'sqlite') return 'sqlite';
  if (value === 'redis') return 'redis';
  throw new Error(`SESSIONKIT_DEMO_STORE must be "sqlite" or "redis", got "${value}".`);
}

/** Absolute path of the data folder. */
export const dataDir = resolve(process.env.DEMO_DATA_DIR ?? 'data');
/** Where sessions are kept. */
export const storeKind: StoreKind = readStoreKind();
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
