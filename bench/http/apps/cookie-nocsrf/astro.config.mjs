// Diagnostic variant (not in the default run): the `cookie` app with CSRF protection turned off,
// so against `cookie` it shows what the CSRF token issued on every request costs.
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit/astro';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  integrations: [
    sessionkit({
      protect: [{ pattern: '/admin/**', role: 'admin' }],
      csrf: false,
    }),
  ],
});
