import { defineConfig } from 'tsdown';

/**
 * Entry points. `package.json#exports` maps `sessionkit/<key>` to `dist/<key>.js` for the public
 * ones; the files the Astro integration hands to Astro by URL (`astro/middleware`,
 * `astro/middleware-post`, `astro/toolbar`, `astro/inspect`) are built next to `dist/astro/index.js`
 * and are not exported.
 */
export const entries = {
  index: 'src/index.ts',
  server: 'src/server/index.ts',
  guard: 'src/guard/index.ts',
  csrf: 'src/csrf/index.ts',
  ratelimit: 'src/ratelimit/index.ts',
  hono: 'src/hono/index.ts',
  fetch: 'src/fetch/index.ts',
  'astro/index': 'src/astro/index.ts',
  'astro/config': 'src/astro/config-entry.ts',
  'astro/middleware': 'src/astro/middleware.ts',
  'astro/middleware-post': 'src/astro/middleware-post.ts',
  'astro/toolbar': 'src/astro/toolbar.ts',
  'astro/inspect': 'src/astro/inspect.ts',
  'stores/memory': 'src/stores/memory.ts',
  'stores/sqlite': 'src/stores/sqlite.ts',
  'stores/redis': 'src/stores/redis.ts',
  'stores/postgres': 'src/stores/postgres.ts',
  'stores/unstorage': 'src/stores/unstorage.ts',
  'stores/encrypt': 'src/stores/encrypt.ts',
  'compat/astro-sessionkit': 'src/compat/astro-sessionkit.ts',
  'compat/kit-session': 'src/compat/kit-session.ts',
};

/**
 * Built but not in `package.json#exports` (so not importable as `sessionkit/...`): the guard's
 * synchronous entry for framework pipelines, built so that bench/guard can time it from dist/.
 */
export const internalEntries = {
  'internal/guard': 'src/guard/internal.ts',
};

/** The `sessionkit` command (`package.json#bin`), built beside the entries; none of them imports it. */
export const binaries = { cli: 'src/cli/index.ts' };

export default defineConfig({
  entry: { ...entries, ...internalEntries, ...binaries },
  format: 'esm',
  platform: 'neutral',
  target: 'es2023',
  dts: true,
  clean: true,
  sourcemap: true,
  external: [/^node:/, /^virtual:/, /^astro(:|\/|$)/, /^hono(\/|$)/, 'cookie', 'rate-limiter-flexible'],
});
