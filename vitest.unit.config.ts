import { configDefaults, defineConfig } from 'vitest/config';
import base, { testFiles } from './vitest.config';

// The fast loop, `npm run test:unit`: every test that needs neither Kafka nor the store (those are
// named *.integration.test.ts), run without starting either.
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: testFiles,
    exclude: [...configDefaults.exclude, '**/*.integration.test.ts'],
    testTimeout: 20_000,
    // Plain modules without servers: one worker thread imports them once for every file.
    pool: 'threads',
    isolate: false,
  },
});
