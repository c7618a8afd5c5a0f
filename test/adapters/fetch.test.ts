/**
 * The behaviour suite against `sessionkit/fetch`: the plain fetch handler as Bun.serve, Deno.serve
 * and Workers call it, served on Node through @hono/node-server's Request/Response bridge.
 */
import { serve } from '@hono/node-server';
import { withSessionkit } from 'sessionkit/fetch';
import { testSecrets } from '../support/fixtures.ts';
import { createRedisStore, dispatch, protect } from './app.ts';
import { describeBehaviour } from './behaviour.ts';

describeBehaviour('fetch handler (sessionkit/fetch)', async (redisPort) => {
  const { store, client } = await createRedisStore(redisPort);
  const fetch = withSessionkit({ secrets: testSecrets[0], store, protect }, dispatch);
  const server = serve({ fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      client.disconnect();
    },
  };
});
