// Edit and delete, "about" a post, and message requests (issue 12 items 3–5): two people
// in separate browsers, one reading English and one Chinese where the text differs.
import { expect, test } from './support/fixtures.ts';
import { createPost } from './support/forum.ts';
import { openChatFromAvatar, sendInChat, visibleChat, waitForMessage } from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

test('an edit and a deletion show at once in the other person’s browser, and the author’s', async ({ newUser }) => {
  const author = await newUser({ username: 'edith' });
  const reader = await newUser({ username: '小明', locale: 'zh-CN' });
  await author.page.goto(`/messages/${encodeURIComponent(reader.username)}`);
  await waitForRealtime(author.page);
  await reader.page.goto(`/messages/${encodeURIComponent(author.username)}`);
  await waitForRealtime(reader.page);
  const mine = visibleChat(author.page);
  const theirs = visibleChat(reader.page);
  await sendInChat(mine, 'See you at 9');
  await sendInChat(mine, 'Bring the map');
  await waitForMessage(theirs, 'See you at 9');
  const first = (chat: typeof mine) => chat.locator('[data-message-id]').first();

  // Only my own messages carry the tools; opened from the keyboard.
  await expect.poll(() => theirs.locator('[data-message-tools]:visible').count()).toBe(0);
  await first(mine).locator('[data-edit-button]').focus();
  await author.page.keyboard.press('Enter');
  const box = first(mine).locator('[data-edit-form] textarea');
  await box.fill('See you at 10');
  await box.press('Enter');
  // Messages are shown as rendered Markdown (a paragraph): compare the text.
  const text = (chat: typeof mine) => first(chat).locator('[data-message-content]').innerText().then((t) => t.trim());
  await expect.poll(() => text(theirs)).toBe('See you at 10');
  expect(await first(theirs).locator('[data-message-edited]').textContent()).toBe('已编辑');
  await expect.poll(() => first(mine).locator('[data-message-edited]').isVisible()).toBe(true);
  expect(await first(mine).locator('[data-message-edited]').textContent()).toBe('edited');

  await first(mine).locator('[data-delete-button]').click();
  await expect.poll(() => text(theirs)).toBe('消息已删除');
  await expect.poll(() => text(mine)).toBe('message deleted');
  expect(await first(mine).locator('[data-message-tools]').isVisible()).toBe(false);
  // The other message is untouched, and a reload shows the same.
  await reader.page.reload();
  await waitForRealtime(reader.page);
  expect((await visibleChat(reader.page).locator('[data-message-content]').allInnerTexts()).map((t) => t.trim())).toEqual(['消息已删除', 'Bring the map']);
});

test('a message started from a post’s avatar carries "about: <title>" for both', async ({ newUser }) => {
  const seller = await newUser({ username: '老王', locale: 'zh-CN' });
  const buyer = await newUser({ username: 'bruno' });
  const postPath = await createPost(seller.page, { title: 'Bike for sale', body: 'Blue, 3 gears.' });
  await buyer.page.goto(postPath);
  await waitForRealtime(buyer.page);
  const chat = await openChatFromAvatar(buyer.page, seller.username);
  await sendInChat(chat, 'Is it still available?');
  const about = chat.locator('[data-message-about]:visible');
  await expect.poll(() => about.count()).toBe(1);
  expect((await about.textContent())?.replace(/\s+/g, ' ').trim()).toBe('about: Bike for sale');
  expect(await about.locator('a').getAttribute('href')).toBe(postPath);
  // The next one, in the same dialog, is about nothing.
  await sendInChat(chat, 'I can pick it up today.');
  expect(await chat.locator('[data-message-about]:visible').count()).toBe(1);

  await seller.page.goto(`/messages/${encodeURIComponent(buyer.username)}`);
  const sellerAbout = visibleChat(seller.page).locator('[data-message-about]:visible');
  expect((await sellerAbout.textContent())?.replace(/\s+/g, ' ').trim()).toBe('关于： Bike for sale');
  await sellerAbout.locator('a').click();
  await seller.page.waitForURL(`**${postPath}`);
});

test('a stranger’s first message waits under Requests, outside the badge, until accepted', async ({ newUser }) => {
  const stranger = await newUser({ username: 'sam' });
  const member = await newUser({ username: '阿美', locale: 'zh-CN' });
  // Requests are the forum's default; this app runs with them off, so the member turns them on.
  await member.page.goto('/messages');
  await member.page.locator('[data-requests-setting] input[name=requests]').check();
  await member.page.locator('[data-requests-setting] button[type=submit]').click();
  await member.page.waitForURL('**/messages');
  await waitForRealtime(member.page);

  await stranger.page.goto(`/messages/${encodeURIComponent(member.username)}`);
  await waitForRealtime(stranger.page);
  await sendInChat(visibleChat(stranger.page), 'Hello, may I ask about your post?');

  // Live: the request appears in the box, and the badge stays empty.
  const request = member.page.locator('[data-request]');
  await expect.poll(() => request.count()).toBe(1);
  expect(await member.page.locator('#requests-title').innerText()).toContain('消息请求');
  expect(await member.page.locator('[data-unread-total][data-unread]').count()).toBe(0);
  expect(await member.page.locator('[data-conversation-list] [data-conversation]').count()).toBe(0);

  await request.locator('[data-request-accept] button').click();
  await member.page.waitForURL(`**/messages/${encodeURIComponent(stranger.username)}`);
  await waitForMessage(visibleChat(member.page), 'Hello, may I ask about your post?');
  await member.page.goto('/messages');
  expect(await member.page.locator('[data-request]').count()).toBe(0);
  expect(await member.page.locator('[data-conversation-list] [data-conversation]').count()).toBe(1);
});
