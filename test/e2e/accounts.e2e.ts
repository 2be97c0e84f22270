// Accounts through the real forms (CONTRACT.md: /register, /login, /logout), and what an
// app restart must not lose.
import { allowProblems, currentUserId, signIn, signOut } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';

test('a new member registers, is signed in, signs out and signs back in', async ({ newUser }) => {
  const quinn = await newUser({ username: 'quinn' });
  expect(quinn.id).toMatch(/^[0-9a-f]{24}$/);
  expect(await quinn.page.locator('header').innerText()).toContain('quinn');

  await signOut(quinn.page);
  expect(await currentUserId(quinn.page)).toBeUndefined();

  expect(await signIn(quinn.page, { username: 'quinn', password: quinn.password })).toBe(quinn.id);
});

test('after the app restarts, members are still signed in and can sign in again', async ({ app, newUser, signInAs }) => {
  const rosa = await newUser({ username: 'rosa' });
  // While the app is down, whatever the open page asks for is refused.
  allowProblems(rosa, /ERR_CONNECTION_REFUSED/);

  await app.restart();

  await rosa.page.reload();
  expect(await currentUserId(rosa.page)).toBe(rosa.id);
  const again = await signInAs({ username: 'rosa', password: rosa.password });
  expect(again.id).toBe(rosa.id);
});
