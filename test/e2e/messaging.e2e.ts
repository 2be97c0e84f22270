// Private messages as members live them (issue 5), two or more people in separate browsers,
// through CONTRACT.md's hooks. Writes the screenshots the README shows.
import type { Page } from 'playwright-core';
import { screenshot, tabTo, type Member } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { createPost } from './support/forum.ts';
import { translationsMatching, untranslatedStrings } from './support/locale.ts';
import {
  chatInput,
  compose,
  conversationIn,
  duplicatedIds,
  openChatFromAvatar,
  rememberDocument,
  sendInChat,
  shownMessages,
  unreadCounts,
  unreadInHeader,
  visibleChat,
  waitForMessage,
  whileOffline,
  withoutWebSocket,
} from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

/** How many elements on the page show this text: 1 means shown, and shown once. */
function timesShown(page: Page, text: string): Promise<number> {
  return page.locator('main').getByText(text).count();
}

async function openLive(person: Member, path: string): Promise<void> {
  await person.page.goto(path);
  await waitForRealtime(person.page);
}

/** Two new members, each on their conversation with the other, connected. */
async function inConversation(newUser: (options: { username: string }) => Promise<Member>, first: string, second: string) {
  const a = await newUser({ username: first });
  const b = await newUser({ username: second });
  await openLive(a, `/messages/${second}`);
  await openLive(b, `/messages/${first}`);
  return [a, b] as const;
}

async function writePost(author: Member): Promise<string> {
  return createPost(author.page, { title: `A walk along the river, by ${author.username}`, body: 'Which bank do you take?' });
}

test("a message sent from a post author's avatar appears on the author's messages page live, once", async ({ newUser }) => {
  const author = await newUser({ username: 'ayla' });
  const postPath = await writePost(author);
  await openLive(author, '/messages');
  const notReloaded = await rememberDocument(author.page);

  const member = await newUser({ username: 'bruno' });
  await member.page.goto(postPath);
  await screenshot(member.page, 'post-page');
  const chat = await openChatFromAvatar(member.page, 'ayla');
  const first = 'Hello Ayla, I take the north bank.';
  await sendInChat(chat, first);
  await screenshot(member.page, 'chat-dialog');

  await expect.poll(() => timesShown(author.page, first)).toBe(1);
  await expect.poll(() => unreadInHeader(author.page)).toBe(1);
  // A second message is a barrier: a duplicate of the first would have arrived before it.
  const second = 'It has the better view of the bridge.';
  await sendInChat(chat, second);
  await expect.poll(() => timesShown(author.page, second)).toBe(1);
  // The count comes in its own event, after the message: wait for it rather than race it.
  await expect.poll(() => unreadInHeader(author.page)).toBe(2);
  expect(await author.page.locator('main a[href="/messages/bruno"]').count()).toBe(1); // one conversation row
  expect(await notReloaded()).toBe(true);
  await screenshot(author.page, 'messages-page');
});

test("the author answers by username from the messages page and the member's open dialog shows it live", async ({ newUser }) => {
  const author = await newUser({ username: 'carmen' });
  const postPath = await writePost(author);
  const member = await newUser({ username: 'dmitri' });
  await openLive(member, postPath);
  const chat = await openChatFromAvatar(member.page, 'carmen');
  const question = 'Carmen, is the river path open in winter?';
  await sendInChat(chat, question);
  const notReloaded = await rememberDocument(member.page);

  await author.page.goto('/messages');
  const answer = 'Yes, all year round.';
  await compose(author.page, 'dmitri', answer);

  await expect.poll(() => conversationIn(chat, [question, answer])).toEqual([question, answer]);
  expect(await duplicatedIds(chat)).toEqual([]);
  expect(await notReloaded()).toBe(true);
});

test('a message to someone who left is saved; they sign in later, see the badge and the whole history, and the badge clears', async ({
  newUser,
  signInAs,
}) => {
  const recipient = await newUser({ username: 'farid' });
  const postPath = await writePost(recipient);
  const sender = await newUser({ username: 'elena' });
  await sender.page.goto(postPath);
  const chat = await openChatFromAvatar(sender.page, 'farid');

  await openLive(recipient, '/messages');
  const whileOnline = 'Farid, are you coming on Sunday?';
  await sendInChat(chat, whileOnline);
  expect(await chat.getByText(/offline/i).count()).toBe(0);

  await recipient.context.close(); // the recipient leaves
  const whileAway = ['I will wait at the station at six.', 'Bring the map, please.'];
  for (const text of whileAway) await sendInChat(chat, text);
  await chat.getByText(/offline/i).first().waitFor();
  // The dialog opened while farid was there; its heading must not still say so.
  expect(await sender.page.getByRole('dialog', { name: /^farid\s+offline$/i }).count()).toBe(1);
  await screenshot(sender.page, 'offline-notice');

  const history = [whileOnline, ...whileAway];
  const back = await signInAs({ username: 'farid', password: recipient.password });
  await expect.poll(() => unreadInHeader(back.page)).toBe(history.length);
  await back.page.goto('/messages');
  await back.page.locator('main a[href="/messages/elena"]').first().click();
  await back.page.waitForURL('**/messages/elena');
  const conversation = visibleChat(back.page);
  await expect.poll(() => conversationIn(conversation, history)).toEqual(history);
  await expect.poll(() => unreadInHeader(back.page)).toBe(0);
  await screenshot(back.page, 'conversation-history');
});

test('one member in two tabs: a message arrives in both, and reading it in one clears the badge in the other', async ({ newUser }) => {
  const sender = await newUser({ username: 'gia' });
  const member = await newUser({ username: 'hiro' });
  const firstTab = member.page;
  const secondTab = await member.context.newPage();
  for (const tab of [firstTab, secondTab]) {
    await tab.goto('/messages');
    await waitForRealtime(tab);
  }

  await sender.page.goto('/messages');
  const text = 'Hiro, the meeting moved to Thursday.';
  await compose(sender.page, 'hiro', text);
  for (const tab of [firstTab, secondTab]) {
    await expect.poll(() => timesShown(tab, text)).toBe(1);
    await expect.poll(() => unreadInHeader(tab)).toBe(1);
  }

  await firstTab.goto('/messages/gia');
  await waitForMessage(visibleChat(firstTab), text);
  await expect.poll(() => unreadCounts(secondTab)).toEqual([]);
  expect(await unreadCounts(firstTab)).toEqual([]);
});

test('reloading keeps the history, and going offline and back loses and duplicates nothing', async ({ newUser }) => {
  const [ines, jon] = await inConversation(newUser, 'ines', 'jon');
  const inesChat = visibleChat(ines.page);
  const jonChat = visibleChat(jon.page);
  const sent: string[] = [];
  const say = async (chat: typeof inesChat, text: string) => {
    await sendInChat(chat, text);
    sent.push(text);
  };

  await say(inesChat, 'Morning Jon, did the parcel arrive?');
  await say(jonChat, 'It did, thank you Ines.');
  await say(inesChat, 'Was anything broken inside?');
  await expect.poll(() => conversationIn(jonChat, sent)).toEqual(sent);
  const idsBefore = (await shownMessages(jonChat)).map((message) => message.id);

  await jon.page.reload();
  await waitForRealtime(jon.page);
  await expect.poll(() => conversationIn(jonChat, sent)).toEqual(sent);
  expect((await shownMessages(jonChat)).map((message) => message.id)).toEqual(idsBefore);

  await whileOffline(jon, async () => {
    await say(inesChat, 'I am sending the invoice now.');
    await say(inesChat, 'Tell me when you have read it.');
  });
  await expect.poll(() => conversationIn(jonChat, sent)).toEqual(sent);
  expect(await duplicatedIds(jonChat)).toEqual([]);

  await say(jonChat, 'Read it, all in order.');
  await expect.poll(() => conversationIn(inesChat, sent)).toEqual(sent);
  expect(await duplicatedIds(inesChat)).toEqual([]);
});

test('where WebSocket cannot connect, messages still come and go live over long-polling', async ({ newUser }) => {
  const sami = await newUser({ username: 'sami' });
  const tove = await newUser({ username: 'tove' });
  await withoutWebSocket(tove); // as behind a proxy that refuses upgrades
  const [samiChat, toveChat] = [visibleChat(sami.page), visibleChat(tove.page)];
  await openLive(tove, '/messages/sami');
  await openLive(sami, '/messages/tove');

  const sent = ['Tove, can you hear me through that proxy?', 'Loud and clear, a little slower.'];
  await sendInChat(samiChat, sent[0]!);
  await waitForMessage(toveChat, sent[0]!);
  await sendInChat(toveChat, sent[1]!);
  await expect.poll(() => conversationIn(samiChat, sent)).toEqual(sent);
  expect(await conversationIn(toveChat, sent)).toEqual(sent);
});

test('a message containing HTML and script shows as text and runs nothing', async ({ newUser }) => {
  const [kai, lena] = await inConversation(newUser, 'kai', 'lena');
  const payload = `<img src="/e2e-injected.png" onerror="window.__e2eInjected=1"><script>window.__e2eInjected=2</script><b>bold</b> & "quotes"`;

  await sendInChat(visibleChat(kai.page), payload);
  await waitForMessage(visibleChat(lena.page), payload);
  await lena.page.goto('/messages'); // the conversation list shows it too, as a preview

  for (const page of [kai.page, lena.page]) {
    expect(await page.evaluate(() => (window as unknown as { __e2eInjected?: number }).__e2eInjected)).toBeUndefined();
    expect(await page.locator('img[src*="e2e-injected"], b:has-text("bold")').count()).toBe(0);
  }
  // Had the markup been rendered, the image's failed load and the blocked inline script
  // would be console errors, which fail this test through the fixtures.
});

test('the Chinese interface renders in Chinese', async ({ newUser }) => {
  const nils = await newUser({ username: 'nils' });
  const postPath = await createPost(nils.page, { title: '周末去河边散步', body: '你们走哪一边？' });
  await nils.context.close(); // offline, so that the dialog shows its notice too
  const mei = await newUser({ username: 'mei', locale: 'zh-CN' });
  expect(await mei.page.locator('html').getAttribute('lang')).toBe('zh-CN');

  await mei.page.goto(postPath);
  expect(await untranslatedStrings(mei.page, 'zh-CN')).toEqual([]);
  const chat = await openChatFromAvatar(mei.page, 'nils');
  await sendInChat(chat, '你好，我走北边。');
  const offlineNotices = translationsMatching(/offline/i, 'zh-CN');
  await expect.poll(async () => {
    const shown = await chat.innerText();
    return offlineNotices.some((notice) => shown.includes(notice));
  }).toBe(true);
  expect(await untranslatedStrings(mei.page, 'zh-CN')).toEqual([]);

  for (const path of ['/messages', '/messages/nils']) {
    await mei.page.goto(path);
    expect(await untranslatedStrings(mei.page, 'zh-CN')).toEqual([]);
  }
  await screenshot(mei.page, 'conversation-zh-cn');
});

test('keyboard only: the dialog can be opened, written in and sent without a mouse', async ({ newUser }) => {
  const olga = await newUser({ username: 'olga' });
  const postPath = await writePost(olga);
  await openLive(olga, '/messages');
  const pavel = await newUser({ username: 'pavel' });
  await pavel.page.goto(postPath);

  // The hook may sit on the focusable element or on the image inside it.
  await tabTo(pavel.page, '[data-chat-user="olga"], :is(a, button, [tabindex]):has(> [data-chat-user="olga"])');
  await pavel.page.keyboard.press('Enter');
  const chat = visibleChat(pavel.page);
  await chat.waitFor();
  await tabTo(pavel.page, '[data-chat] [data-chat-form] textarea[name=content]');
  await pavel.page.keyboard.type('First line');
  await pavel.page.keyboard.press('Shift+Enter');
  await pavel.page.keyboard.type('and the second');
  expect(await chatInput(chat).inputValue()).toBe('First line\nand the second');
  await pavel.page.keyboard.press('Enter');

  await waitForMessage(chat, 'and the second');
  const [sent] = await shownMessages(chat);
  expect(sent?.text).toContain('First line\nand the second');
  expect(await chatInput(chat).inputValue()).toBe('');
  await expect.poll(() => timesShown(olga.page, 'First line')).toBe(1);
});

test('the online dots on the messages page follow people as they come and go', async ({ newUser }) => {
  const uma = await newUser({ username: 'uma' });
  const vik = await newUser({ username: 'vik' });
  await openLive(uma, '/users/vik');
  const chat = await openChatFromAvatar(uma.page, 'vik');
  await sendInChat(chat, 'Are you around later?');

  await openLive(vik, '/messages');
  const dot = vik.page.locator('[data-conversation][data-username="uma"] [data-online-dot]');
  await expect.poll(() => dot.getAttribute('data-online')).toBe('');

  // uma closes her only tab's page: her dot goes out on vik's open page, no reload.
  await uma.page.goto('about:blank');
  await expect.poll(() => dot.getAttribute('data-online'), { timeout: 15_000 }).toBeNull();
  // …and comes back on when she opens Parley again.
  await openLive(uma, '/');
  await expect.poll(() => dot.getAttribute('data-online'), { timeout: 15_000 }).toBe('');
});
