// The Astro config of the sessionkit apps: the bare app's config plus the sessionkit integration
// with `options` (the suite's defaults unless a diagnostic variant changes one).
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import sessionkit from 'sessionkit/astro';
import { sessionkitOptions } from './sessionkit-options.mjs';

/** The config for one sessionkit variant. */
export function sessionkitAppConfig(options = sessionkitOptions) {
  return defineConfig({
    output: 'server',
    adapter: node({ mode: 'standalone' }),
    integrations: [sessionkit(options)],
  });
}
