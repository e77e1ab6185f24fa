import { defineConfig } from 'vitest/config';

// The fault tests that kill brokers of a cluster of their own: `npm run chaos:cluster`.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.fault.test.ts'],
    globalSetup: ['libs/testing/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
