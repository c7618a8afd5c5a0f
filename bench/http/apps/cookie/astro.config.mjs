// Cookie mode (sealed cookies, the default): the bare app plus the sessionkit integration with its
// defaults (CSRF on, guard on). The one rule protects a path the benchmark never visits, so the page
// is public and the guard still runs. `/login` is CSRF-exempt only so the bench signs in with one POST.
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit/astro';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  integrations: [
    sessionkit({
      protect: [{ pattern: '/admin/**', role: 'admin' }],
      csrf: { exempt: ['/login'] },
    }),
  ],
});
