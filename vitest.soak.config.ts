// The soak run: `npm run soak`. Too heavy to share the machine with the rest of the suite,
// so it runs on its own, after it, against its own app process (see test/soak/).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 180_000,
  },
});
