/** The behaviour suite against the Astro integration: a built fixture app on @astrojs/node. */
import { buildFixture, serveBuiltFixture } from '../support/astro.ts';
import { testSecrets } from '../support/fixtures.ts';
import { describeBehaviour } from './behaviour.ts';

describeBehaviour('Astro (sessionkit integration)', async (redisPort) => {
  buildFixture('astro-adapters');
  return serveBuiltFixture('astro-adapters', {
    SESSIONKIT_SECRET: testSecrets[0],
    SESSIONKIT_REDIS_PORT: String(redisPort),
  });
});
