// Redis mode: ioredis 5 with auto-pipelining (docs/stores.md), keys under the run's own prefix.
import { Redis } from 'ioredis';
import { defineSessionkit } from 'sessionkit/astro/config';
import { redisStore } from 'sessionkit/stores/redis';

const client = new Redis({
  host: '127.0.0.1',
  port: Number(process.env.BENCH_REDIS_PORT ?? 6379),
  enableAutoPipelining: true,
  maxRetriesPerRequest: 1,
});

export default defineSessionkit({
  store: redisStore({ client, prefix: process.env.BENCH_REDIS_PREFIX ?? 'sessionkit-bench-http:' }),
});
