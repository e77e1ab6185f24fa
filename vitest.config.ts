import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Shared code is imported as '#libs/<name>' (tsconfig.json's paths).
  resolve: { alias: [{ find: /^#libs\//, replacement: fileURLToPath(new URL('./libs/', import.meta.url)) }] },
  test: {
    include: ['libs/**/*.test.ts', 'services/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['libs/testing/global-setup.ts'],
    // Integration tests share one broker and one store on a 2-core machine.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    reporters: ['default'],
  },
});
