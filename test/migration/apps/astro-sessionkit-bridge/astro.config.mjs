// astro-sessionkit 0.1.33's README with the app keeping its own session (bridge mode): its
// "Global Protection" and "Debug Mode" options, sessionTtl with touchOnRequest, and the
// "Set Up Your Session" middleware (src/middleware.ts) unchanged but for the import.
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  integrations: [
    sessionkit({
      bridge: 'astro-session',
      loginPath: '/login',
      protect: [{ pattern: '/admin/**', role: 'admin' }],
      globalProtect: true,
      exclude: [
        '/', // Public landing page
        '/login', // Login page (automatically excluded but good to be explicit)
        '/about', // Public about page
        '/public/**', // All public assets/pages
        '/api/health', // Health check endpoint
        '/api/login', // The sign-in endpoint
        '/admin/help', // Inside /admin/**: astro-sessionkit never applied this exclusion
      ],
      sessionTtl: 4,
      touchOnRequest: true,
      debug: true,
    }),
  ],
});
