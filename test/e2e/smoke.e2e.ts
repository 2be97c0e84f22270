// What exists before any feature: the forum's front page, in both languages.
import fs from 'node:fs/promises';
import { screenshot, takeProblems } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { dictionary, untranslatedStrings } from './support/locale.ts';

test('the home page loads with the site header and nothing goes wrong in the browser', async ({ newPage }) => {
  const page = await newPage();
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);

  const header = page.locator('header');
  await header.waitFor();
  expect(await header.locator('.navbar-brand').innerText()).toBe('Parley');
  expect(await header.locator('a[href="/login"]').innerText()).toBe('Sign in');
  expect(await header.locator('a[href="/register"]').innerText()).toBe('Register');
  // Styles and scripts are served from the app itself (no CDN) and load under the CSP.
  expect(await page.evaluate(() => typeof (window as unknown as { jQuery?: unknown }).jQuery)).toBe('function');
  expect(await page.evaluate(() => getComputedStyle(document.querySelector('header')!).display)).toBe('flex');

  const file = await screenshot(page, 'home');
  expect((await fs.stat(file)).size).toBeGreaterThan(1000);
  expect(takeProblems()).toEqual([]);
});

test('the Chinese interface renders in Chinese', async ({ newPage }) => {
  const page = await newPage({ locale: 'zh-CN' });
  await page.goto('/');
  expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
  const zh = dictionary('zh-CN');
  expect(await page.locator('header .nav-link[href="/"]').innerText()).toBe(zh['nav.home']);
  expect(await page.locator('header a[href="/register"]').innerText()).toBe(zh['nav.register']);
  expect(await untranslatedStrings(page, 'zh-CN')).toEqual([]);
  await screenshot(page, 'home-zh-cn');
});
