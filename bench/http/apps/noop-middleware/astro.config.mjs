// Diagnostic variant (not in the default run): the bare app plus an integration that registers
// two pass-through middlewares, `pre` and `post`, as sessionkit does. Against `bare`, it shows what
// Astro's middleware machinery costs per request before any session work.
import { fileURLToPath } from 'node:url';
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';

const passThrough = fileURLToPath(new URL('./pass-through.mjs', import.meta.url));

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  integrations: [
    {
      name: 'pass-through-middleware',
      hooks: {
        'astro:config:setup'({ addMiddleware }) {
          addMiddleware({ order: 'pre', entrypoint: passThrough });
          addMiddleware({ order: 'post', entrypoint: passThrough });
        },
      },
    },
  ],
});
