// Astro 7 on @astrojs/node (standalone) with iron-session 9 used directly in the page: no integration.
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
});
