// Astro 7 on @astrojs/node (standalone); the page reads its session with ioredis itself (the floor).
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
});
