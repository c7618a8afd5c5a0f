/**
 * `sessionkit/astro`: the Astro 7 integration (config time; `astro.config.mjs` imports it).
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
import type { AstroIntegration } from 'astro';
import type { SessionkitIntegrationOptions } from './config.ts';
import { captureCallSite, rememberedCallSite } from './error-display.ts';
import { createIntegration } from './integration.ts';

export type {
  AstroGuardContext,
  SessionkitCsrfOptions,
  SessionkitIntegrationOptions,
  SessionkitRule,
  SessionkitRuntimeConfig,
} from './config.ts';

/**
 * The sessionkit Astro integration. Works with no options (sealed-cookie sessions, CSRF on, no
 * rules) and with astro-sessionkit's options.
 *
 * @example
 * ```js
 * export default defineConfig({
 *   output: 'server',
 *   integrations: [sessionkit({ loginPath: '/login', protect: [{ pattern: '/admin/**', role: 'admin' }] })],
 * });
 * ```
 */
export function sessionkit(options: SessionkitIntegrationOptions = {}): AstroIntegration {
  // This module is `dist/astro/index.js`; the files Astro loads are built next to it.
  return createIntegration(
    options,
    {
      middleware: new URL('./middleware.js', import.meta.url),
      middlewarePost: new URL('./middleware-post.js', import.meta.url),
      toolbar: new URL('./toolbar.js', import.meta.url),
      inspect: new URL('./inspect.js', import.meta.url),
    },
    rememberedCallSite(options) ?? captureCallSite(sessionkit),
  );
}

export default sessionkit;
