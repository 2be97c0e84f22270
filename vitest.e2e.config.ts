// Browser tests: `npm run test:e2e`. Each file starts the app as a user would (`npm start`)
// with its own data directory, and drives it with Chromium; see test/e2e/support/.
import { defineConfig } from 'vitest/config';

/**
 * Scenario files written against the contract for features that are not merged yet.
 * They are kept out of the run rather than skipped; delete a line here once its feature
 * has landed and the file passes.
 */
export const PENDING: string[] = [];

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    exclude: ['node_modules/**', ...PENDING],
    globalSetup: ['test/e2e/support/global-setup.ts'],
    pool: 'forks',
    // One file at a time: every file runs its own app, database and Chromium, and two cores
    // are not enough for two of those at once without timing-dependent failures.
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 60_000,
    // Starting the app (and on a cold machine its embedded database) and Chromium.
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // Waits on conditions (expect.poll) get the same patience as a user on a slow machine.
    expect: { poll: { timeout: 15_000, interval: 50 } },
    // A failure in a browser is rarely fixed by trying again; a retry would hide flakiness.
    retry: 0,
  },
});
