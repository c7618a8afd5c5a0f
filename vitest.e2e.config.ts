import { defineConfig } from 'vitest/config';

/**
 * Browser end-to-end tests of the demo app (examples/demo) with Debian's Chromium, and the
 * two-instances-one-Redis test. Run by `npm test` after the other tests, or `npm run test:e2e`.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
