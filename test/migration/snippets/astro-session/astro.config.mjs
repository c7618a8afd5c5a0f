// astro.config.mjs: createCookieSessionStorage needs no integration, only on-demand rendering.
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
});
