// Bare Astro 7 on @astrojs/node (standalone): the baseline every other variant is compared with.
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
});
