/**
 * `sessionkit/astro`: the Astro 7 integration.
 *
 * @example
 * ```js
 * // astro.config.mjs
 * import { defineConfig } from 'astro/config';
 * import node from '@astrojs/node';
 * import sessionkit from 'sessionkit/astro';
 *
 * export default defineConfig({
 *   output: 'server',
 *   adapter: node({ mode: 'standalone' }),
 *   integrations: [sessionkit({ loginPath: '/login', protect: [{ pattern: '/admin/**', role: 'admin' }] })],
 * });
 * ```
 *
 * @module
 */
export type {
  AstroGuardContext,
  SessionkitCsrfOptions,
  SessionkitOptions,
  SessionkitRule,
  SessionkitRuntimeConfig,
} from './config.ts';
export { sessionkit as default, sessionkit } from './integration.ts';
