// The sessionkit demo: an Astro 7 app on @astrojs/node. Run it with `npm start` from the repository root.
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit/astro';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  // sessionkit keeps the sessions: Astro's own session storage (a filesystem driver the node
  // adapter turns on by default) is not used, so it is off.
  session: false,
  // Stylesheets as files, never inlined: the Content-Security-Policy in src/middleware.ts then
  // needs no 'unsafe-inline'.
  build: { inlineStylesheets: 'never' },
  integrations: [
    // Plain data only here: these options are written into the server bundle as JSON.
    // The store and event hooks live in src/sessionkit.ts.
    sessionkit({
      loginPath: '/login',
      // A signed-in visitor without the role or permission a rule asks for sees this page (403).
      forbiddenPage: '/403',
      protect: [
        // Any signed-in user.
        { pattern: '/dashboard', authenticated: true },
        { pattern: '/devices', authenticated: true },
        // By role and by permission.
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/reports/**', permission: 'reports:read' },
        // JSON APIs (paths under /api/ get JSON 401/403 instead of redirects).
        { pattern: '/api/me', authenticated: true },
        { pattern: '/api/admin/**', role: 'admin' },
      ],
    }),
  ],
});
