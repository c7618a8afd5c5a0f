// astro-sessionkit 0.1.33's README, "Configure the Integration", migrated as its guide says: the
// import renamed, the "custom logic" rule (a function) moved to src/sessionkit.ts, every other
// option kept. Two more README rules: "By Multiple Permissions" and "Custom Redirect" (on /staff,
// since /admin/** already has a rule here).
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  integrations: [
    sessionkit({
      loginPath: '/login',
      protect: [
        // Protect admin routes
        { pattern: '/admin/**', role: 'admin' },

        // Protect dashboard for authenticated users
        { pattern: '/dashboard', roles: ['user', 'admin'] },

        // Protect by permission
        { pattern: '/settings', permission: 'settings:write' },

        // User must have ALL of these permissions
        { pattern: '/admin/users', permissions: ['users:read', 'users:write'] },

        // Override the default login path per rule
        { pattern: '/staff/**', role: 'staff', redirectTo: '/unauthorized' },
      ],
      globalProtect: false, // Set to true to protect all routes by default
      exclude: ['/public/**', '/about'], // Routes to ignore if globalProtect is true
      debug: false, // Enable debug logging
      sessionTtl: 3600, // Default session lifetime in seconds
    }),
  ],
});
