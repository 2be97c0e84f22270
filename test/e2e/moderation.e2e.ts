// Moderation as it happens (issue 13): a moderator suspends a member who is in the middle
// of a conversation. Their connection closes at once, what they type next never reaches
// the other person, they are signed out, and they cannot sign back in.
import { allowProblems, currentUserId, submitForm, visit } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { formTo, promote } from './support/forum.ts';
import { chatInput, visibleChat, waitForMessage, sendInChat } from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

test('a moderator suspends a member mid-conversation: their socket closes, nothing more gets through, and they cannot sign in', async ({ app, newUser }) => {
  const moderator = await newUser({ username: 'maud' });
  allowProblems(moderator, /ERR_CONNECTION_REFUSED/); // the app restarts to make her a moderator
  await promote(app, 'maud', 'moderator');

  const alice = await newUser({ username: 'alice' });
  const bob = await newUser({ username: 'bob' });
  await alice.page.goto('/messages/bob');
  await waitForRealtime(alice.page);
  await bob.page.goto('/messages/alice');
  await waitForRealtime(bob.page);
  const aliceChat = visibleChat(alice.page);
  const bobChat = visibleChat(bob.page);
  await sendInChat(aliceChat, 'Hello Bob, you will regret this');
  await waitForMessage(bobChat, 'Hello Bob, you will regret this');

  await visit(moderator.page, '/moderation');
  const suspend = formTo(moderator.page, '/moderation/suspend');
  await suspend.locator('[name=username]').fill('alice');
  await suspend.locator('[name=length]').selectOption('forever');
  await suspend.locator('[name=reason]').fill('threats');
  expect((await submitForm(suspend)).redirectedTo).toBe('/moderation');
  await moderator.page.locator('[data-log-action="user.suspend"]', { hasText: 'maud' }).waitFor();

  // Alice's open page loses its live connection at once (no reload) and says so.
  await aliceChat.getByText('Connection lost. Reconnecting…').waitFor();
  // What she types now stays with her: it is never stored, so Bob never sees it.
  await chatInput(aliceChat).fill('Are you still there?');
  await chatInput(aliceChat).press('Enter');
  await aliceChat.locator('[data-chat-log] [data-state]', { hasText: 'Are you still there?' }).waitFor();

  // Her next page finds her signed out, and signing in is refused with the reason.
  await alice.page.reload();
  expect(await currentUserId(alice.page)).toBeUndefined();
  allowProblems(alice, /status of 403/);
  await visit(alice.page, '/login');
  const login = formTo(alice.page, '/login');
  await login.locator('[name=username]').fill('alice');
  await login.locator('[name=password]').fill(alice.password);
  const refused = await submitForm(login);
  expect(refused.status).toBe(403);
  expect(refused.alerts.join(' ')).toContain('This account is suspended.');

  // Bob's conversation, read again from the server, holds only what was sent before.
  await bob.page.reload();
  await waitForMessage(visibleChat(bob.page), 'Hello Bob, you will regret this');
  expect(await visibleChat(bob.page).getByText('Are you still there?').count()).toBe(0);
});
