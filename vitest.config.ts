import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "sallyport-source"
// export condition), so unit and integration tests need no build. End-to-end tests start the
// built services as real processes, so `npm test` builds first.
const resolve = { conditions: ['sallyport-source'] };

export default defineConfig({
  resolve,
  test: {
    pool: 'forks',
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['{libs,services}/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        resolve,
        test: {
          name: 'integration',
          include: ['{libs,services}/*/src/**/*.int.test.ts'],
          globalSetup: ['tests/harness/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        test: {
          name: 'e2e',
          include: ['tests/**/*.e2e.test.ts'],
          globalSetup: ['tests/harness/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
