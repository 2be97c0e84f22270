// Nothing a member writes runs script where it is shown, Markdown included: the payloads
// below go into a post, a reply, the composer's preview and a live private message, in a
// real browser. Any script that ran would call window.__xss (set before the page loads);
// the page checks also fail the test on any CSP violation a payload provokes.
import type { Locator, Page } from 'playwright-core';
import { submitForm, visit, type Member } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { chatInput, openChatFromAvatar } from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

const PAYLOADS = [
  `<script>window.__xss('script')</script>`,
  `<img src=x onerror="window.__xss('img')">`,
  `<svg onload="window.__xss('svg')"></svg>`,
  `<details open ontoggle="window.__xss('details')">x</details>`,
  `<a href="javascript:window.__xss('html-link')">html link</a>`,
  `[md link](javascript:window.__xss('md-link'))`,
  `[md link 2](JaVaScRiPt:window.__xss('md-link-2'))`,
  `[md link 3](java&#x73;cript:window.__xss('md-link-3'))`,
  `[data link](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3MoJ2RhdGEnKTwvc2NyaXB0Pg==)`,
  `![image](javascript:window.__xss('md-image'))`,
  `![pixel](https://evil.example/pixel.png)`,
  `[quote](https://example.com/" onclick="window.__xss('quote'))`,
  `<javascript:window.__xss('autolink')>`,
  '`<script>window.__xss("code")</script>`',
  '```html\n<script>window.__xss("fence")</script>\n```',
  `> <iframe src="javascript:window.__xss('iframe')"></iframe>`,
].join('\n\n');

async function watchForScripts(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __xss: (name: string) => void; __xssHits: string[] };
    w.__xssHits = [];
    w.__xss = (name) => w.__xssHits.push(name);
  });
}

const hits = (page: Page) => page.evaluate(() => (window as unknown as { __xssHits: string[] }).__xssHits);

/** Rendered member text may hold only inert markup: no script-capable elements, no handlers, only safe links. */
async function unsafeMarkupIn(area: Locator): Promise<string[]> {
  return area.evaluateAll((roots) => {
    const problems: string[] = [];
    for (const root of roots) {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'img', 'svg', 'iframe', 'object', 'embed', 'details', 'style', 'form', 'input'].includes(tag)) problems.push(`<${tag}>`);
        for (const attr of Array.from(el.attributes)) {
          if (/^on/i.test(attr.name)) problems.push(`${tag}[${attr.name}]`);
          if (attr.name === 'href' && !/^(https?:|mailto:|\/[^/]|#)/i.test(attr.value)) problems.push(`href=${attr.value}`);
          if (attr.name === 'src') problems.push(`src=${attr.value}`);
        }
        if (tag === 'a' && el.getAttribute('rel') !== 'nofollow ugc noopener') problems.push(`a rel=${el.getAttribute('rel')}`);
      }
    }
    return problems;
  });
}

/** Hovers and focuses every link a member wrote, as a curious reader would (never following outside ones). */
async function poke(area: Locator): Promise<void> {
  for (const link of await area.locator('a').all()) {
    await link.hover();
    await link.focus();
  }
}

async function member(newUser: (o: { username: string }) => Promise<Member>, username: string): Promise<Member> {
  const person = await newUser({ username });
  await watchForScripts(person.page);
  return person;
}

test('Markdown payloads in a post, a reply and the preview render as inert text and safe links', async ({ newUser }) => {
  const author = await member(newUser, 'mallory');
  await visit(author.page, '/posts/new');
  await author.page.locator('[name=title]').fill(`<img src=x onerror="window.__xss('title')"> **title**`);
  await author.page.locator('textarea[name=body]').fill(PAYLOADS);
  await author.page.locator('[data-editor-tab=preview]').click();
  const preview = author.page.locator('[data-markdown-preview]');
  await preview.locator('p').first().waitFor();
  await poke(preview);
  expect(await unsafeMarkupIn(preview)).toEqual([]);
  expect(await hits(author.page)).toEqual([]);

  const postPath = (await submitForm(author.page.locator('form[data-post-form]'))).redirectedTo!;
  expect(await author.page.locator('h1.post-title').innerText()).toBe(`<img src=x onerror="window.__xss('title')"> **title**`);

  const reader = await member(newUser, 'victor');
  await visit(reader.page, postPath);
  await reader.page.locator('textarea[name=body]').fill(PAYLOADS);
  await submitForm(reader.page.locator('form[data-reply-form]'));
  const texts = reader.page.locator('.user-text');
  await texts.nth(1).waitFor();
  // The text is all there, shown as text.
  expect(await texts.first().innerText()).toContain(`<script>window.__xss('script')</script>`);
  await poke(texts);
  expect(await unsafeMarkupIn(texts)).toEqual([]);
  expect(await hits(reader.page)).toEqual([]);

  await visit(reader.page, '/');
  expect(await hits(reader.page)).toEqual([]);
});

test('the same payloads in a live private message arrive as inert text, and stay so in the history', async ({ newUser }) => {
  const sender = await member(newUser, 'trudy');
  const recipient = await member(newUser, 'walter');
  await visit(recipient.page, '/posts/new');
  await recipient.page.locator('[name=title]').fill('Write to me');
  await recipient.page.locator('textarea[name=body]').fill('here');
  const postPath = (await submitForm(recipient.page.locator('form[data-post-form]'))).redirectedTo!;
  await recipient.page.goto('/messages/trudy');
  await waitForRealtime(recipient.page);

  await sender.page.goto(postPath);
  await waitForRealtime(sender.page);
  const chat = await openChatFromAvatar(sender.page, 'walter');
  // Typed and sent as a person does; the sender's own copy shows rendered too, once stored.
  await chatInput(chat).fill(`**bold** ${PAYLOADS.split('\n\n').slice(0, 8).join(' ')}`);
  await chatInput(chat).press('Enter');
  const own = chat.locator('[data-chat-log] [data-message-id] [data-message-content]').last();
  await own.locator('strong', { hasText: 'bold' }).waitFor();
  expect(await unsafeMarkupIn(own)).toEqual([]);

  const bubble = recipient.page.locator('[data-chat-log] [data-message-content]').last();
  await bubble.locator('strong', { hasText: 'bold' }).waitFor();
  await poke(bubble);
  expect(await unsafeMarkupIn(bubble)).toEqual([]);
  expect(await bubble.innerText()).toContain(`<script>window.__xss('script')</script>`);
  expect(await hits(recipient.page)).toEqual([]);
  expect(await hits(sender.page)).toEqual([]);

  await recipient.page.reload();
  const stored = recipient.page.locator('[data-chat-log] [data-message-content]').last();
  await stored.locator('strong', { hasText: 'bold' }).waitFor();
  expect(await unsafeMarkupIn(stored)).toEqual([]);
  expect(await hits(recipient.page)).toEqual([]);
});
