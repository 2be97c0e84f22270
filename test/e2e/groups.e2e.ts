// Group conversations (issue 12 item 1), three people in separate browsers, one of them
// reading Chinese: start a group from the messages page by typing several names, every
// member sees messages live, "seen by" with the names on hover or focus, typing, leaving.
import type { Page } from 'playwright-core';
import { screenshot } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { chatInput, compose, sendInChat, unreadInHeader, visibleChat, waitForMessage } from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

/** The group's row on /messages, found by its title containing every name. */
function groupRow(page: Page) {
  return page.locator('[data-conversation-list] [data-group-row]').first();
}

test('three people: a group started by typing names, messages live for all, seen by, typing, and leaving', async ({ newUser }) => {
  const maya = await newUser({ username: 'maya' });
  const jonas = await newUser({ username: 'jonas' });
  const ming = await newUser({ username: '小明', locale: 'zh-CN' });

  // Jonas and Ming are on their messages pages when Maya starts the group.
  for (const person of [jonas, ming]) {
    await person.page.goto('/messages');
    await waitForRealtime(person.page);
  }
  await maya.page.goto('/messages');
  await waitForRealtime(maya.page);
  await compose(maya.page, `jonas, 小明`, 'Who is in for Friday?');
  await expect.poll(() => new URL(maya.page.url()).pathname).toMatch(/^\/messages\/c\/g[0-9a-f]{24}$/);
  const groupPath = new URL(maya.page.url()).pathname;
  await waitForRealtime(maya.page);
  const mayaChat = visibleChat(maya.page);
  await waitForMessage(mayaChat, 'Who is in for Friday?');

  // The group appears live on the others' messages pages, counted unread, in the header too.
  for (const person of [jonas, ming]) {
    await expect.poll(() => groupRow(person.page).getAttribute('data-group-id')).toBe(groupPath.split('/').pop());
    await expect.poll(() => groupRow(person.page).locator('[data-unread]').getAttribute('data-unread')).toBe('1');
    await expect.poll(() => unreadInHeader(person.page)).toBe(1);
    expect(await groupRow(person.page).locator('[data-group-title]').textContent()).toContain('maya');
  }
  expect(await groupRow(ming.page).locator('[data-conversation-preview]').textContent()).toBe('maya: Who is in for Friday?');

  // Both open it: read, the badge goes, and Maya sees who has seen it.
  await jonas.page.goto(groupPath);
  await waitForRealtime(jonas.page);
  const seen = mayaChat.locator('[data-seen-by]');
  await expect.poll(() => seen.textContent()).toBe('Seen by 1 of 2');
  expect(await seen.getAttribute('title')).toBe('Seen by: jonas');
  await ming.page.goto(groupPath);
  await waitForRealtime(ming.page);
  await expect.poll(() => unreadInHeader(ming.page)).toBe(0);
  // The others' online dots, live on the group's page.
  await expect.poll(() => ming.page.locator('[data-group-members] [data-online-dot][data-online]').count()).toBe(2);
  await expect.poll(() => seen.textContent()).toBe('Seen by 2 of 2');
  // The names on focus, for a keyboard or screen reader: the element takes focus and names them.
  await seen.focus();
  expect(await maya.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Seen by: jonas, 小明');

  // Messages live for everyone, whoever sends; typing shows for the others.
  const jonasChat = visibleChat(jonas.page);
  const mingChat = visibleChat(ming.page);
  await chatInput(mingChat).pressSequentially('我来');
  const typing = mayaChat.locator('[data-typing]');
  await expect.poll(() => typing.isVisible()).toBe(true);
  expect(await typing.textContent()).toBe('小明 is typing…');
  await expect.poll(() => jonasChat.locator('[data-typing]').textContent()).toBe('小明 is typing…');
  await sendInChat(mingChat, '我来！');
  await expect.poll(() => typing.isVisible()).toBe(false);
  await waitForMessage(mayaChat, '我来！');
  await waitForMessage(jonasChat, '我来！');
  await sendInChat(jonasChat, 'Count me in too.');
  await waitForMessage(mayaChat, 'Count me in too.');
  await waitForMessage(mingChat, 'Count me in too.');
  await sendInChat(mayaChat, 'Great, see you both at eight.');
  await waitForMessage(jonasChat, 'Great, see you both at eight.');
  await waitForMessage(mingChat, 'Great, see you both at eight.');
  await expect.poll(() => seen.textContent()).toBe('Seen by 2 of 2');
  await chatInput(jonasChat).pressSequentially('Shall I book');
  await expect.poll(() => typing.isVisible()).toBe(true);
  await screenshot(maya.page, 'group-conversation');
  await chatInput(mayaChat).pressSequentially('好的');
  await expect.poll(() => mingChat.locator('[data-typing]').textContent()).toBe('maya 正在输入…');
  await screenshot(ming.page, 'group-conversation-zh');

  // Jonas leaves: he is back on his messages page without the group, and hears nothing more.
  jonas.page.once('dialog', (dialog) => void dialog.accept());
  await jonas.page.locator('[data-group-leave]').click();
  await expect.poll(() => new URL(jonas.page.url()).pathname).toBe('/messages');
  expect(await jonas.page.locator('[data-group-row]').count()).toBe(0);
  await waitForRealtime(jonas.page);
  await chatInput(mayaChat).fill('');
  await sendInChat(mayaChat, 'Just the two of us, then.');
  await waitForMessage(mingChat, 'Just the two of us, then.');
  expect(await jonas.page.locator('[data-group-row]').count()).toBe(0);
  expect(await unreadInHeader(jonas.page)).toBe(0);
});
