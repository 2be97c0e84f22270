// The send queue in the browser (issue 6): a message shows at once as pending, survives
// a reload, is sent when the connection is back, and shows as failed with Retry when the
// server refuses it. A flaky connection or a restarting app loses and duplicates nothing.
import type { Locator, Page } from 'playwright-core';
import { allowProblems, submitForm, type Member } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { chatInput, conversationIn, duplicatedIds, openChatFromAvatar, sendInChat, visibleChat, waitForMessage } from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

async function openLive(person: Member, path: string): Promise<void> {
  await person.page.goto(path);
  await waitForRealtime(person.page);
}

/** Types a message and presses Enter; it does not wait for the server. */
async function write(chat: Locator, content: string): Promise<void> {
  await chatInput(chat).fill(content);
  await chatInput(chat).press('Enter');
}

/** A message of ours not stored yet, by what it says. */
function queued(chat: Locator, content: string): Locator {
  return chat.locator('[data-chat-log] [data-state]').filter({ hasText: content });
}

/** What the page's send queue holds in localStorage. */
async function storedQueue(page: Page): Promise<{ content: string; state: string }[]> {
  return page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith('parley:outbox:') && !k.endsWith(':probe'));
    return key ? (JSON.parse(localStorage.getItem(key) ?? '[]') as { content: string; state: string }[]) : [];
  });
}

/** The live connection's own requests (not the client script, which is served from the same path). */
const isRealtimeRequest = (url: URL) => url.pathname.startsWith('/socket.io/') && url.searchParams.has('EIO');

const CUT_FLAG = 'e2e.cutRealtime';

/**
 * Keeps the page's live connection from being made (its pages and scripts still load).
 * page.route sees HTTP only, and the app connects over WebSocket first, so WebSockets are
 * sent to a path nobody upgrades while this tab's sessionStorage carries the flag.
 */
async function cutRealtime(page: Page): Promise<void> {
  allowProblems(page, /socket\.io|ERR_FAILED|WebSocket/);
  await page.route(isRealtimeRequest, (route) => route.abort());
  await page.addInitScript((flag) => {
    const Real = window.WebSocket;
    window.WebSocket = class extends Real {
      constructor(url: string | URL, protocols?: string | string[]) {
        const target = new URL(String(url), location.href);
        if (sessionStorage.getItem(flag) === '1') target.pathname = '/no-websocket-here/';
        super(target.href, protocols);
      }
    };
  }, CUT_FLAG);
  await page.evaluate((flag) => sessionStorage.setItem(flag, '1'), CUT_FLAG);
}

async function restoreRealtime(page: Page): Promise<void> {
  await page.unroute(isRealtimeRequest);
  await page.evaluate((flag) => sessionStorage.removeItem(flag), CUT_FLAG);
}

/** With the live connection cut, writes `text` in the chat opened from `to`'s profile; it shows as pending. */
async function writeWithoutConnection(person: Member, to: string, text: string): Promise<Locator> {
  await cutRealtime(person.page);
  await person.page.goto(`/users/${to}`);
  const dialog = await openChatFromAvatar(person.page, to);
  await dialog.locator('[data-chat-loading]').waitFor({ state: 'hidden' });
  await write(dialog, text);
  await expect.poll(() => queued(dialog, text).getAttribute('data-state')).toBe('pending');
  return dialog;
}

test('a message written while the connection is down waits, survives a reload, and is sent once when it is back', async ({ newUser }) => {
  const ana = await newUser({ username: 'ana' });
  const bo = await newUser({ username: 'bo' });
  await openLive(bo, '/messages/ana');

  // From the chat dialog on bo's profile, with no live connection.
  const text = 'Written on the train, sent when I had signal.';
  const dialog = await writeWithoutConnection(ana, 'bo', text);
  expect(await queued(dialog, text).innerText()).toContain('Waiting for the connection');
  expect(await storedQueue(ana.page)).toMatchObject([{ content: text, state: 'pending' }]);

  // Reloaded, on the conversation page this time: still there, still waiting.
  await ana.page.goto('/messages/bo');
  const pane = visibleChat(ana.page);
  await queued(pane, text).waitFor();

  await restoreRealtime(ana.page);
  await ana.page.reload();
  await waitForMessage(pane, text);
  await waitForMessage(visibleChat(bo.page), text);
  expect(await conversationIn(visibleChat(bo.page), [text])).toEqual([text]);
  expect(await conversationIn(pane, [text])).toEqual([text]);
  expect(await storedQueue(ana.page)).toEqual([]);
});

test('a refused message shows as failed with the reason; Retry sends it once allowed, Remove drops it', async ({ newUser }) => {
  const cy = await newUser({ username: 'cy' });
  const di = await newUser({ username: 'di' });
  await di.page.goto('/users/cy');
  await openLive(cy, '/users/di');
  // Cy blocks di from di's profile.
  await submitForm(cy.page.locator('[data-block-form]'));
  await openLive(cy, '/messages/di');

  await openLive(di, '/messages/cy');
  const chat = visibleChat(di.page);
  const first = 'Are we still on for Friday?';
  await write(chat, first);
  const failed = chat.locator('[data-chat-log] [data-state="failed"]').filter({ hasText: first });
  await failed.waitFor();
  expect(await failed.getByRole('alert').innerText()).toBe("You can't send messages to this member.");
  const second = 'Never mind.';
  await write(chat, second);
  await chat.locator('[data-chat-log] [data-state="failed"]').filter({ hasText: second }).waitFor();
  await chat.locator('[data-chat-log] [data-state="failed"]').filter({ hasText: second }).getByRole('button', { name: 'Remove' }).click();
  await expect.poll(() => chat.locator('[data-chat-log] li').filter({ hasText: second }).count()).toBe(0);

  await submitForm(cy.page.locator('[data-block-form]'));
  await openLive(cy, '/messages/di');
  await failed.getByRole('button', { name: 'Retry' }).click();
  await waitForMessage(chat, first);
  await waitForMessage(visibleChat(cy.page), first);
  expect(await conversationIn(visibleChat(cy.page), [first])).toEqual([first]);
  expect(await storedQueue(di.page)).toEqual([]);
});

test('a flaky connection loses and duplicates nothing', async ({ newUser }) => {
  const ed = await newUser({ username: 'ed' });
  const flo = await newUser({ username: 'flo' });
  await openLive(flo, '/messages/ed');
  await openLive(ed, '/messages/flo');
  allowProblems(ed.context, /ERR_INTERNET_DISCONNECTED|WebSocket/);
  const chat = visibleChat(ed.page);
  const sent: string[] = [];
  for (let i = 1; i <= 8; i++) {
    const text = `Flaky line ${i}`;
    await write(chat, text);
    sent.push(text);
    // Drop the connection right after some sends, before or after their acknowledgement.
    if (i % 3 !== 0) {
      await ed.context.setOffline(true);
      await ed.context.setOffline(false);
    }
  }
  await waitForRealtime(ed.page);
  await expect.poll(() => conversationIn(visibleChat(flo.page), sent)).toEqual(sent);
  await expect.poll(() => conversationIn(chat, sent)).toEqual(sent);
  expect(await duplicatedIds(chat)).toEqual([]);
  expect(await duplicatedIds(visibleChat(flo.page))).toEqual([]);
  expect(await storedQueue(ed.page)).toEqual([]);
  // Stored once each: the page as the server renders it.
  await flo.page.reload();
  expect(await conversationIn(visibleChat(flo.page), sent)).toEqual(sent);
});

test('across an app restart: pages reconnect by themselves, sessions hold, and what was written meanwhile is sent and caught up', async ({ app, newUser }) => {
  const gil = await newUser({ username: 'gil' });
  const hal = await newUser({ username: 'hal' });
  await openLive(gil, '/messages/hal');
  await openLive(hal, '/messages/gil');
  const before = 'Before the restart.';
  await sendInChat(visibleChat(gil.page), before);

  for (const person of [gil, hal]) allowProblems(person.context, /ERR_CONNECTION_REFUSED|WebSocket|socket\.io/);
  await app.stop();
  const during = 'Written while the server was away.';
  await write(visibleChat(gil.page), during);
  await queued(visibleChat(gil.page), during).waitFor();
  await app.start();

  await waitForRealtime(gil.page);
  await waitForRealtime(hal.page);
  const after = 'After the restart.';
  await sendInChat(visibleChat(hal.page), after);
  const all = [before, during, after];
  for (const person of [gil, hal]) {
    await expect.poll(() => conversationIn(visibleChat(person.page), all)).toEqual(all);
    expect(await duplicatedIds(visibleChat(person.page))).toEqual([]);
  }
});

test('the compose form on /messages uses the queue too, and shows a refusal in the form', async ({ newUser }) => {
  await newUser({ username: 'ivo' });
  const jo = await newUser({ username: 'jo' });
  await openLive(jo, '/messages');
  const form = jo.page.locator('[data-compose-form]');
  await form.locator('input[name=to]').fill('nobody-by-that-name');
  await form.locator('textarea[name=content]').fill('Hello?');
  await form.locator('[data-compose-send]').click();
  await expect.poll(() => jo.page.locator('[data-compose-error]').innerText()).toBe('There is no member with that username.');
  expect(await form.locator('textarea[name=content]').inputValue()).toBe('Hello?');
  expect(await storedQueue(jo.page)).toEqual([]);

  await form.locator('input[name=to]').fill('ivo');
  await form.locator('[data-compose-send]').click();
  await expect.poll(() => jo.page.locator('[data-compose-status]').innerText()).toContain('Sent to ivo.');
  expect(await form.locator('textarea[name=content]').inputValue()).toBe('');
});

test('over the rate limit: the refused message counts down "wait N s" and Retry waits for it', async ({ newUser }) => {
  await newUser({ username: 'lu' });
  const kim = await newUser({ username: 'kim' });
  await openLive(kim, '/messages/lu');
  const chat = visibleChat(kim.page);
  // The default limit is 30 messages in 30 s.
  for (let i = 1; i <= 31; i++) await write(chat, `Line ${i}`);
  const refused = chat.locator('[data-chat-log] [data-state="failed"]').filter({ hasText: 'Line 31' });
  await refused.waitFor();
  expect(await refused.getByRole('alert').innerText()).toMatch(/^You are sending messages too quickly\. Please wait \d+ s and try again\.$/);
  expect(await refused.locator('[data-wait]').innerText()).toMatch(/^Wait \d+ s$/);
  expect(await refused.getByRole('button', { name: 'Retry' }).isDisabled()).toBe(true);
  expect(await chat.locator('[data-chat-log] [data-message-id]').count()).toBe(30);
});

test('signing out with a message not yet sent asks first, then leaves nothing of it in the browser', async ({ newUser }) => {
  const mo = await newUser({ username: 'mo' });
  await newUser({ username: 'ned' });
  const text = 'Typed at the library computer.';
  const dialog = await writeWithoutConnection(mo, 'ned', text);
  await dialog.locator('[data-chat-close]').click();

  const signOutButton = mo.page.locator('form[action="/logout"] button[type="submit"]');
  // Declining keeps the member signed in, the message still queued.
  const declined = new Promise<string>((resolve) => mo.page.once('dialog', (d) => void d.dismiss().then(() => resolve(d.message()))));
  await signOutButton.click();
  expect(await declined).toContain('1 message');
  expect(await storedQueue(mo.page)).toMatchObject([{ content: text, state: 'pending' }]);
  await expect.poll(() => mo.page.locator('form[action="/logout"]').count()).toBe(1);

  // Accepting signs out and empties the queue.
  mo.page.once('dialog', (d) => void d.accept());
  await Promise.all([mo.page.waitForURL((url) => url.pathname === '/'), signOutButton.click()]);
  await expect.poll(() => mo.page.locator('form[action="/logout"]').count()).toBe(0);
  expect(await mo.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('parley:outbox:')))).toEqual([]);
});
