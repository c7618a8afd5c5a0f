// astro.config.mjs
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit/astro';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  integrations: [
    sessionkit({
      loginPath: '/login',
      protect: [{ pattern: '/admin/**', role: 'admin' }],
      access: {
        // Custom role extraction
        getRole: (session) => session?.primaryRole ?? null,

        // Custom permissions extraction
        getPermissions: (session) => [...(session?.permissions ?? []), ...(session?.dynamicPerms ?? [])],
      },
    }),
  ],
});
