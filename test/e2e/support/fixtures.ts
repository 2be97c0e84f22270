// The `test` every scenario file uses. Per file: one app (`npm start`, own data directory)
// and one Chromium. Per test: people in their own browser contexts, closed afterwards;
// the test fails if any of their pages logged an error or the server logged one.
//
//   test('…', async ({ app, newUser }) => {
//     const alice = await newUser({ username: 'alice' });
//     await alice.page.goto('/messages');
//   });
import { test as base } from 'vitest';
import { startApp } from './app.ts';
import { closeContexts, launchBrowser, newContext, newUser, signInAs, type ContextOptions, type NewUserOptions } from './browser.ts';

export const test = base
  // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern
  .extend('app', { scope: 'file' }, async ({}, { onCleanup }) => {
    const app = await startApp();
    onCleanup(() => app.close());
    return app;
  })
  // eslint-disable-next-line no-empty-pattern -- as above
  .extend('browser', { scope: 'file' }, async ({}, { onCleanup }) => {
    const browser = await launchBrowser();
    onCleanup(() => browser.close());
    return browser;
  })
  .extend('pageChecks', { auto: true }, async ({ app, task }, { onCleanup }) => {
    app.takeServerErrors(); // what happened before this test is not its fault
    onCleanup(async () => {
      const failed = task.result?.state === 'fail';
      const problems = await closeContexts(failed ? task.name : undefined);
      problems.push(...app.takeServerErrors().map((line) => `[server] ${line}`));
      if (problems.length > 0) {
        throw new Error(`errors while the test ran:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
      }
    });
  })
  /** A new person: fresh browser profile, registered through /register, signed in. */
  .extend('newUser', async ({ app, browser }) => (options: NewUserOptions) => newUser(browser, app, options))
  /** A returning person: fresh browser profile, signed in through /login. */
  .extend('signInAs', async ({ app, browser }) => (options: NewUserOptions) => signInAs(browser, app, options))
  /** A page in a fresh, signed-out browser profile. */
  .extend('newPage', async ({ app, browser }) => async (options: ContextOptions = {}) => (await newContext(browser, app, options)).newPage());

export { expect } from 'vitest';
