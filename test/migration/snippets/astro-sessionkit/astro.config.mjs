// astro.config.mjs
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  integrations: [
    sessionkit({
      loginPath: '/login',
      protect: [{ pattern: '/admin/**', role: 'admin' }],
    }),
  ],
});
