// What a person does and sees with private messages, through the test hooks of
// CONTRACT.md ("Hooks for browser tests") and nothing else of the markup.
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { alertTexts, allowProblems } from './browser.ts';
import { isRealtimeReady, waitForRealtime } from './realtime.ts';

function attributeValue(value: string): string {
  return JSON.stringify(value); // a quoted CSS attribute value, whatever the username holds
}

/** Every avatar of this user on the page; clicking one opens the chat dialog. */
export function avatarsOf(page: Page, username: string): Locator {
  return page.locator(`[data-chat-user=${attributeValue(username)}]`);
}

/** The chat dialog or conversation pane the person can see. */
export function visibleChat(page: Page): Locator {
  return page.locator('[data-chat]:visible').first();
}

export async function openChatFromAvatar(page: Page, username: string): Promise<Locator> {
  await avatarsOf(page, username).first().click();
  const chat = visibleChat(page);
  await chat.locator('[data-chat-log]').waitFor({ state: 'attached' });
  return chat;
}

export function chatInput(chat: Locator): Locator {
  return chat.locator('[data-chat-form] textarea[name=content]');
}

function messagesOf(chat: Locator): Locator {
  return chat.locator('[data-chat-log] [data-message-id]');
}

/** Playwright's hasText compares with whitespace collapsed; so must we. */
function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Waits until a message with this text is in the chat's log; fails with what the chat says instead. */
export async function waitForMessage(chat: Locator, content: string, timeoutMs = 15_000): Promise<void> {
  try {
    await messagesOf(chat).filter({ hasText: collapse(content) }).last().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (err) {
    const shown = await chat.locator('[role=alert]:visible, .alert:visible').allInnerTexts().catch(() => []);
    throw new Error(`"${content}" did not appear in the chat; the chat shows: ${shown.join(' | ') || '(no notice)'}`, { cause: err });
  }
}

/** Types into the chat and presses Enter, as a person does; resolves once the message is in the sender's log. */
export async function sendInChat(chat: Locator, content: string): Promise<void> {
  const input = chatInput(chat);
  await input.fill(content);
  await input.press('Enter');
  await waitForMessage(chat, content);
}

export interface ShownMessage {
  id: string;
  text: string;
}

export async function shownMessages(chat: Locator): Promise<ShownMessage[]> {
  return messagesOf(chat).evaluateAll((elements) =>
    elements.map((element) => ({ id: element.getAttribute('data-message-id') ?? '', text: (element as HTMLElement).innerText })),
  );
}

/**
 * The chat's messages, oldest first, each named by the sent text it shows (a message also
 * shows a name and a time). Compare with the list that was sent: equal means every
 * message shows exactly once, in order, and nothing else is there.
 */
export async function conversationIn(chat: Locator, sent: readonly string[]): Promise<string[]> {
  const byLength = [...sent].sort((a, b) => b.length - a.length);
  return (await shownMessages(chat)).map(({ text }) => {
    const shown = collapse(text);
    return byLength.find((content) => shown.includes(collapse(content))) ?? shown;
  });
}

/** Message ids shown more than once: a message delivered twice. */
export async function duplicatedIds(chat: Locator): Promise<string[]> {
  const ids = (await shownMessages(chat)).map((message) => message.id);
  return ids.filter((id, index) => ids.indexOf(id) !== index);
}

/** Writes to a username through the compose form on /messages; resolves once the form has taken it. */
export async function compose(page: Page, to: string, content: string): Promise<void> {
  const form = page.locator('[data-compose-form]');
  await form.locator('input[name=to]').fill(to);
  const input = form.locator('textarea[name=content]');
  await input.fill(content);
  const field = await input.elementHandle();
  // Taken either in place (the form clears) or by a POST that loads another page.
  const newDocument = page.waitForEvent('load', { timeout: 15_000 });
  const cleared = page.waitForFunction((element) => (element as HTMLTextAreaElement).value === '', field, { timeout: 15_000 });
  await form.locator('button:not([type]), [type=submit]').first().click();
  try {
    await Promise.any([newDocument, cleared]);
  } catch {
    throw new Error(`the compose form kept "${content}": ${(await alertTexts(page)).join(' | ') || '(no message shown)'}`);
  }
}

/** The header's unread count: the number in `header [data-unread]`, 0 when the badge is absent. */
export async function unreadInHeader(page: Page): Promise<number> {
  const badge = page.locator('header [data-unread]');
  if ((await badge.count()) === 0) return 0;
  return Number(await badge.first().getAttribute('data-unread'));
}

/** Every unread count on the page (header and conversation rows); empty when nothing is unread. */
export async function unreadCounts(page: Page): Promise<number[]> {
  return page.locator('[data-unread]').evaluateAll((elements) => elements.map((element) => Number(element.getAttribute('data-unread'))));
}

/**
 * Marks the document so a later check can tell whether the page was reloaded or navigated:
 * "appears without reloading" means the mark is still there.
 */
export async function rememberDocument(page: Page): Promise<() => Promise<boolean>> {
  const mark = randomUUID();
  await page.evaluate((value) => {
    (window as unknown as Record<string, string>).__e2eDocumentMark = value;
  }, mark);
  return () => page.evaluate((value) => (window as unknown as Record<string, string>).__e2eDocumentMark === value, mark);
}

/**
 * Takes the person's browser offline until `during` has run, then back online. Waits for the
 * live connection of every connected page to drop, and afterwards to come back.
 */
export async function whileOffline(person: { context: BrowserContext }, during: () => Promise<void>): Promise<void> {
  const { context } = person;
  const connected = context.pages().filter(isRealtimeReady);
  // The browser reports its own failed reconnection attempts as console errors.
  allowProblems(context, /ERR_INTERNET_DISCONNECTED/);
  await context.setOffline(true);
  try {
    await Promise.all(connected.map((page) => waitForRealtime(page, false)));
    await during();
  } finally {
    await context.setOffline(false);
  }
  await Promise.all(connected.map((page) => waitForRealtime(page, true)));
}

/**
 * Makes every WebSocket the person's pages open fail to connect, as behind a proxy that
 * refuses upgrades, so that Socket.IO has to fall back to long-polling. Call it before
 * the pages load; the failed attempts are console errors this allows.
 */
export async function withoutWebSocket(person: { context: BrowserContext }): Promise<void> {
  allowProblems(person.context, /WebSocket connection to '.*' failed/);
  await person.context.addInitScript(() => {
    const Real = window.WebSocket;
    // Same origin (the page's CSP allows nothing else), a path nobody upgrades: the server
    // drops the connection and the browser reports the WebSocket as failed.
    window.WebSocket = class extends Real {
      constructor(url: string | URL, protocols?: string | string[]) {
        const refused = new URL(String(url), location.href);
        refused.pathname = '/no-websocket-here/';
        super(refused.href, protocols);
      }
    };
  });
}
