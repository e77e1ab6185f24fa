import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// Fault tests that show defects still open (docs/RELIABILITY.md): `npm run test:faults`.
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['libs/**/*.fault.test.ts', 'services/**/*.fault.test.ts', 'test/**/*.fault.test.ts'],
    globalSetup: ['libs/testing/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
