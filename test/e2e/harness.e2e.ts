// The harness itself: a scenario can only be trusted if what should fail it does.
import { allowProblems, newContext, takeProblems } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';

test('console errors, uncaught errors and CSP violations in a page are caught', async ({ app, browser }) => {
  const page = await (await newContext(browser, app, { label: 'watched' })).newPage();
  await page.goto('/');
  await page.evaluate(() => {
    console.error('e2e: a deliberate console error');
    setTimeout(() => {
      throw new Error('e2e: a deliberate uncaught error');
    });
    // What an injected <script> would do: the policy (script-src 'self') must stop it.
    const script = document.createElement('script');
    script.textContent = 'window.__e2eInlineRan = true';
    document.body.append(script);
  });

  const seen: string[] = [];
  await expect
    .poll(() => {
      seen.push(...takeProblems());
      return seen.join('\n');
    })
    .toMatch(/(?=[\s\S]*deliberate console error)(?=[\s\S]*deliberate uncaught error)(?=[\s\S]*Content Security Policy)/);
  expect(seen.every((problem) => problem.startsWith('[watched] '))).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { __e2eInlineRan?: boolean }).__e2eInlineRan)).toBeUndefined();
});

test('errors a test declares are not held against it', async ({ newPage }) => {
  const page = await newPage();
  allowProblems(page, /e2e: expected/);
  await page.goto('/');
  await page.evaluate(() => console.error('e2e: expected noise'));
  // A second, undeclared error proves the first one was seen and let through.
  await page.evaluate(() => console.error('e2e: marker'));
  await expect.poll(() => takeProblems()).toEqual([expect.stringContaining('e2e: marker')]);
});

test('the app restarts on the same address with the same data directory', async ({ app, newPage }) => {
  const page = await newPage();
  // While the app is down the page's own late requests (its icon, say) are refused.
  allowProblems(page, /ERR_CONNECTION_REFUSED/);
  await page.goto('/');
  const { url, dataDir } = app;
  await app.restart();
  expect(app.url).toBe(url);
  expect(app.dataDir).toBe(dataDir);
  expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  const response = await page.reload();
  expect(response?.status()).toBe(200);
});
