/**
 * The behaviour suite against `sessionkit/fetch`: the plain fetch handler as Bun.serve, Deno.serve
 * and Workers call it, served on Node through @hono/node-server's Request/Response bridge.
 */
import { withSessionkit } from 'sessionkit/fetch';
import { testSecrets } from '../support/fixtures.ts';
import { createRedisStore, dispatch, protect } from './app.ts';
import { describeBehaviour, serveFetch } from './behaviour.ts';

describeBehaviour('fetch handler (sessionkit/fetch)', async (redisPort) => {
  const { store, client } = await createRedisStore(redisPort);
  const fetch = withSessionkit({ secrets: testSecrets[0], store, protect }, dispatch);
  return serveFetch(fetch, () => client.disconnect());
});
