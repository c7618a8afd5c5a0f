/** The behaviour suite against `sessionkit/hono`: a Hono app served on Node by @hono/node-server. */
import { Hono } from 'hono';
import { type SessionkitEnv, sessionkit } from 'sessionkit/hono';
import { testSecrets } from '../support/fixtures.ts';
import { createRedisStore, protect, routes } from './app.ts';
import { describeBehaviour, serveFetch } from './behaviour.ts';

describeBehaviour('Hono (sessionkit/hono)', async (redisPort) => {
  const { store, client } = await createRedisStore(redisPort);
  const app = new Hono<SessionkitEnv>();
  app.use(sessionkit({ secrets: testSecrets[0], store, protect }));
  for (const [key, route] of Object.entries(routes)) {
    const [method, path] = key.split(' ') as [string, string];
    app.on(method, path, (c) => route(c.req.raw, c));
  }
  return serveFetch(app.fetch, () => client.disconnect());
});
