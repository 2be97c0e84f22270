// Chat features members of NodeBB and Discourse look for (issue 12), two people in separate
// browsers through CONTRACT.md's hooks.
import { screenshot } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { chatInput, sendInChat, visibleChat } from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

test('the other person sees "typing…" while I type, and it goes when I send or empty the box', async ({ newUser }) => {
  const writer = await newUser({ username: 'tomas' });
  const reader = await newUser({ username: '小红', locale: 'zh-CN' });
  await writer.page.goto(`/messages/${encodeURIComponent(reader.username)}`);
  await waitForRealtime(writer.page);
  await reader.page.goto(`/messages/${encodeURIComponent(writer.username)}`);
  await waitForRealtime(reader.page);
  const writerChat = visibleChat(writer.page);
  const indicator = visibleChat(reader.page).locator('[data-typing]');
  await expect.poll(() => indicator.isVisible()).toBe(false);

  await chatInput(writerChat).pressSequentially('Are you coming to');
  await expect.poll(() => indicator.isVisible()).toBe(true);
  expect(await indicator.textContent()).toBe('tomas 正在输入…');
  await screenshot(reader.page, 'typing-indicator');

  await chatInput(writerChat).fill('');
  await chatInput(writerChat).dispatchEvent('input');
  await expect.poll(() => indicator.isVisible()).toBe(false);

  await chatInput(writerChat).pressSequentially('See you at eight');
  await expect.poll(() => indicator.isVisible()).toBe(true);
  await sendInChat(writerChat, 'See you at eight.');
  await expect.poll(() => indicator.isVisible()).toBe(false);
  await expect.poll(() => visibleChat(reader.page).getByText('See you at eight.').count()).toBe(1);
});
