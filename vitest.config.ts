import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// The browser tests wait on customer-record's projection, which each test starts at the end of the
// shared topics: beside the rest of the suite it has every other test's records to project first
// (minutes of them on this machine). They run after the rest, two at a time, on a quiet broker.
const browserTests = ['services/**/*browser.integration.test.ts'];

/** Every test file, browser tests included. */
export const testFiles = ['libs/**/*.test.ts', 'services/**/*.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  // Shared code is imported as '#libs/<name>' (tsconfig.json's paths).
  resolve: { alias: [{ find: /^#libs\//, replacement: fileURLToPath(new URL('./libs/', import.meta.url)) }] },
  test: {
    globalSetup: ['libs/testing/global-setup.ts'],
    // Integration tests share one broker and one store on a 2-core machine.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: testFiles,
          exclude: [...configDefaults.exclude, ...browserTests],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'browser', include: browserTests, sequence: { groupOrder: 1 } } },
    ],
  },
});
