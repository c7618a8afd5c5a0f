// astro.config.mjs
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit/astro';

export default defineConfig({
  output: 'server', // protected pages must be rendered on demand, never prerendered
  adapter: node({ mode: 'standalone' }),
  integrations: [
    sessionkit({
      loginPath: '/login',
      protect: [
        { pattern: '/dashboard', authenticated: true }, // any signed-in user
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/reports/**', permission: 'reports:read' },
        { pattern: '/api/me', authenticated: true },
        { pattern: '/api/admin/**', role: 'admin' },
      ],
    }),
  ],
});
