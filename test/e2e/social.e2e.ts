// Mentions, notifications and search (issue 13) as members live them, in separate
// browsers. Writes the notifications page and search screenshots.
import type { Page } from 'playwright-core';
import { formWithField, screenshot, submitForm, visit, type Member } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { createPost } from './support/forum.ts';
import { rememberDocument, sendInChat, visibleChat, waitForMessage } from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

/** The header's notification count, or 0 when it carries none (CONTRACT.md). */
async function bellCount(page: Page): Promise<number> {
  const value = await page.locator('[data-notifications]').getAttribute('data-notifications', { timeout: 50 }).catch(() => null);
  return value === null ? 0 : Number(value);
}

/** Searches from the header's box, as a person does: type, Enter. */
async function searchFromHeader(page: Page, words: string): Promise<void> {
  const box = page.locator('[data-search-box] input[name=q]');
  await box.fill(words);
  await Promise.all([page.waitForURL(/\/search\?/), box.press('Enter')]);
}

/**
 * Results for `words`, searched from the header until the index has caught up with a
 * post written a moment ago (indexing is queued off the author's request).
 */
async function searchUntilFound(person: Member, words: string, count: number): Promise<void> {
  await expect
    .poll(async () => {
      await searchFromHeader(person.page, words);
      return person.page.locator('[data-search-result]').count();
    })
    .toBe(count);
}

test('a mention picked from the suggestions notifies the member at once, and the bell leads to the exact post', async ({ newUser }) => {
  const named = await newUser({ username: 'mentioned_mo' });
  await visit(named.page, '/');
  await waitForRealtime(named.page);
  const notReloaded = await rememberDocument(named.page);
  expect(await bellCount(named.page)).toBe(0);

  const writer = await newUser({ username: 'writer_wu' });
  await visit(writer.page, '/posts/new');
  const form = formWithField(writer.page, 'title');
  await form.locator('[name=title]').fill('Picnic on Saturday');
  const body = form.locator('[name=body]');
  await body.click();
  await body.pressSequentially('Are you coming, @menti');
  const option = writer.page.locator('[data-mention-suggestions] [data-mention-option="mentioned_mo"]');
  await option.waitFor();
  await body.press('Enter');
  await expect.poll(() => body.inputValue()).toBe('Are you coming, @mentioned_mo ');
  await expect(writer.page.locator('[data-mention-suggestions]').count()).resolves.toBe(0);
  await body.pressSequentially('bring the kite!');
  const outcome = await submitForm(form);
  const postPath = outcome.redirectedTo!;
  await expect(writer.page.locator('[data-post-body] a.mention[href="/users/mentioned_mo"]').textContent()).resolves.toBe('@mentioned_mo');

  // The named member's open page counts it without a reload.
  await expect.poll(() => bellCount(named.page)).toBe(1);
  expect(await notReloaded()).toBe(true);

  await named.page.locator('[data-nav-notifications]').click();
  await named.page.waitForURL(/\/notifications$/);
  const notification = named.page.locator('[data-notification]');
  await expect(notification.count()).resolves.toBe(1);
  await expect(notification.locator('.notification-link').textContent()).resolves.toBe('writer_wu mentioned you in “Picnic on Saturday”');
  await expect(notification.getAttribute('data-notification-unread')).resolves.toBe('');
  // Read on open: the bell is empty already.
  expect(await bellCount(named.page)).toBe(0);
  await screenshot(named.page, 'notifications-page');

  await notification.locator('.notification-link').click();
  await named.page.waitForURL((url) => url.pathname === postPath);
  await expect(named.page.locator('h1.post-title').textContent()).resolves.toBe('Picnic on Saturday');
});

test('a reply to your post lights the bell in every open tab, in Chinese too, and links to the reply', async ({ newUser }) => {
  const author = await newUser({ username: 'author_an', locale: 'zh-CN' });
  const postPath = await createPost(author.page, { title: '周末爬山', body: '有人一起吗？' });
  const second = await author.context.newPage();
  await visit(author.page, '/');
  await visit(second, '/messages');
  await Promise.all([waitForRealtime(author.page), waitForRealtime(second)]);

  const replier = await newUser({ username: 'replier_re' });
  await visit(replier.page, postPath);
  const form = formWithField(replier.page, 'body');
  await form.locator('[name=body]').fill('I am in!');
  await submitForm(form);
  const replyAnchor = new URL(replier.page.url()).hash;
  expect(replyAnchor).toMatch(/^#reply-[0-9a-f]{24}$/);

  await expect.poll(() => bellCount(author.page)).toBe(1);
  await expect.poll(() => bellCount(second)).toBe(1);
  await visit(second, '/notifications');
  const link = second.locator('[data-notification] .notification-link');
  await expect(link.textContent()).resolves.toBe('replier_re 回复了「周末爬山」');
  // Opening the page in one tab reads it in the other.
  await expect.poll(() => bellCount(author.page)).toBe(0);
  await link.click();
  await second.waitForURL((url) => url.hash === replyAnchor);
  await expect(second.locator(`${replyAnchor} .user-text`).textContent().then((text) => text?.trim())).resolves.toBe('I am in!');
});

test('search from the header finds posts and replies in English and in Chinese, words marked, markup shown as text', async ({ newUser }) => {
  const writer = await newUser({ username: 'writer_xu' });
  const english = await createPost(writer.page, { title: 'Baking bread at home', body: 'Sourdough needs patience and a warm kitchen.' });
  const chinese = await createPost(writer.page, { title: '周末去北京', body: '我们今天去看长城，明天吃烤鸭。' });
  await createPost(writer.page, { title: '<img src=x onerror=alert(1)> kitchen trick', body: '<script>alert("sourdough")</script>' });

  const reader = await newUser({ username: 'reader_li', locale: 'zh-CN' });
  await visit(reader.page, '/');
  await searchUntilFound(reader, '长城', 1);
  const result = reader.page.locator('[data-search-result]');
  await expect(result.locator('[data-search-snippet] mark').allTextContents()).resolves.toEqual(['长城']);
  await expect(result.locator('[data-search-link]').getAttribute('href')).resolves.toBe(chinese);
  await screenshot(reader.page, 'search-results-zh');

  await searchUntilFound(reader, 'SOURDOUGH', 2);
  await expect(reader.page.locator('[data-search-result] mark').allTextContents()).resolves.toEqual(['sourdough', 'Sourdough']);
  // The newest first: the post whose markup must show as text.
  await expect(reader.page.locator('[data-search-result]').first().locator('[data-search-snippet]').textContent()).resolves.toBe('<script>alert("sourdough")</script>');
  await expect(reader.page.locator('main img[src=x]').count()).resolves.toBe(0);
  await expect(reader.page.locator('[data-search-result]').nth(1).locator('[data-search-link]').getAttribute('href')).resolves.toBe(english);

  await searchUntilFound(reader, 'kitchen 烤鸭', 0);
  await expect(reader.page.locator('[data-search-none]').count()).resolves.toBe(1);
});

test('a mention in a message links to the profile, live for the recipient and after a reload for the sender', async ({ newUser }) => {
  const sender = await newUser({ username: 'sender_su' });
  const recipient = await newUser({ username: 'recipient_ri' });
  await visit(recipient.page, '/messages/sender_su');
  await waitForRealtime(recipient.page);
  await visit(sender.page, '/messages/recipient_ri');
  await waitForRealtime(sender.page);

  const text = 'Ask @sender_su or @recipient_ri, not <b>@nobody</b>';
  await sendInChat(visibleChat(sender.page), text);
  const received = visibleChat(recipient.page);
  await waitForMessage(received, text);
  const links = received.locator('[data-message-content] a.mention');
  await expect.poll(() => links.evaluateAll((as) => as.map((a) => `${a.textContent} ${a.getAttribute('href')}`))).toEqual([
    '@sender_su /users/sender_su',
    '@recipient_ri /users/recipient_ri',
    '@nobody /users/nobody',
  ]);
  // Typed markup stays text.
  await expect(received.locator('[data-message-content] b').count()).resolves.toBe(0);

  await sender.page.reload();
  const mine = visibleChat(sender.page).locator('[data-message-content] a.mention');
  await expect.poll(() => mine.count()).toBe(3);
});
