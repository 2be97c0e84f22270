// Mail as a newcomer's app sends it: SMTP_URL unset, each mail an .eml file under
// DATA_DIR/mail/ (CONTRACT.md). The reset flow from the sign-in page to a new password,
// the tab title's unread count, and the rendered unread-message mail in both languages.
import fs from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { startApp } from './support/app.ts';
import { allowProblems, currentUserId, formWithField, screenshot, signIn, submitForm, visit, type Member } from './support/browser.ts';
import { expect, test as base } from './support/fixtures.ts';
import { compose } from './support/messaging.ts';
import { waitForRealtime } from './support/realtime.ts';

// eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern
const test = base.override('app', { scope: 'file' }, async ({}, { onCleanup }) => {
  const app = await startApp({ env: { MAIL_POLL_MS: '200', UNREAD_MAIL_DELAY_MS: '1500' } });
  onCleanup(() => app.close());
  return app;
});

/** Every mail the app has written so far, parsed. */
async function mails(dataDir: string): Promise<ParsedMail[]> {
  const dir = path.join(dataDir, 'mail');
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.eml')).sort();
  return Promise.all(names.map(async (name) => simpleParser(await fs.readFile(path.join(dir, name)))));
}

async function mailTo(dataDir: string, address: string, linkPrefix: string): Promise<{ mail: ParsedMail; link: string }> {
  let found: { mail: ParsedMail; link: string } | undefined;
  await expect
    .poll(async () => {
      for (const mail of (await mails(dataDir)).reverse()) {
        const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
        const match = new RegExp(`https?://[^/\\s]+(${linkPrefix}[^\\s>]*)`).exec(mail.text ?? '');
        if (to.some((a) => a.text.includes(address)) && match) {
          found = { mail, link: match[1]! };
          return true;
        }
      }
      return false;
    })
    .toBe(true);
  return found!;
}

async function addEmail(member: Member, dataDir: string, address: string): Promise<void> {
  await visit(member.page, '/settings');
  const form = formWithField(member.page, 'email');
  await form.locator('[name=email]').fill(address);
  expect((await submitForm(form)).redirectedTo).toBe('/settings');
  const { link } = await mailTo(dataDir, address, '/settings/email/confirm/');
  await visit(member.page, link);
  await expect.poll(() => member.page.locator('[data-current-email]').innerText()).toContain(address);
}

test('a member who forgot their password gets a link by mail, sets a new one, and every other session is signed out', async ({ app, newUser, signInAs, newPage }) => {
  const pia = await newUser({ username: 'pia' });
  await addEmail(pia, app.dataDir, 'pia@example.test');
  // Pia is also signed in on another device.
  const laptop = await signInAs({ username: 'pia', password: pia.password });
  await visit(laptop.page, '/messages');
  await waitForRealtime(laptop.page);

  // On a third, signed-out browser she has forgotten it.
  const phone = await newPage({ label: 'pia phone' });
  await visit(phone, '/login');
  await phone.locator('[data-forgot-password]').click();
  await phone.waitForURL('**/password/forgot');
  const form = formWithField(phone, 'email');
  await form.locator('[name=email]').fill('pia@example.test');
  const asked = await submitForm(form);
  expect(asked.status).toBe(200);
  expect(await phone.locator('[data-reset-sent]').innerText()).toContain('pia@example.test');

  const { link } = await mailTo(app.dataDir, 'pia@example.test', '/password/reset/');
  await visit(phone, link);
  const reset = formWithField(phone, 'password');
  await reset.locator('[name=password]').fill('a new passphrase for pia');
  const done = await submitForm(reset);
  expect(done.redirectedTo).toBe('/');
  expect(await currentUserId(phone)).toBe(pia.id);

  // The laptop's live connection was closed at once; its next page is signed out.
  await waitForRealtime(laptop.page, false);
  await laptop.page.reload();
  expect(await currentUserId(laptop.page)).toBeUndefined();
  // The link was for one use (the browser logs the 404 it answers).
  allowProblems(phone, /404 \(Not Found\)/);
  const again = await phone.goto(link);
  expect(again?.status()).toBe(404);
  // The new password signs in.
  const fresh = await newPage({ label: 'pia again' });
  expect(await signIn(fresh, { username: 'pia', password: 'a new passphrase for pia' })).toBe(pia.id);
});

test('the tab title counts unread messages as they arrive, and clears when they are read', async ({ newUser }) => {
  const tomas = await newUser({ username: 'tomas' });
  const uma = await newUser({ username: 'uma' });
  await visit(tomas.page, '/');
  await waitForRealtime(tomas.page);
  const plain = await tomas.page.title();
  expect(plain).not.toMatch(/^\(\d+\)/);

  await visit(uma.page, '/messages');
  await compose(uma.page, 'tomas', 'are you there?');
  await expect.poll(() => tomas.page.title()).toBe(`(1) ${plain}`);
  await compose(uma.page, 'tomas', 'hello again');
  await expect.poll(() => tomas.page.title()).toBe(`(2) ${plain}`);

  await visit(tomas.page, '/messages/uma');
  await expect.poll(() => tomas.page.title()).not.toMatch(/^\(\d+\)/);
});

test('a member away from the site gets one mail listing unread messages, in their language (screenshots)', async ({ app, newUser }) => {
  for (const [locale, name, address, friend] of [
    ['en', 'vera', 'vera@example.test', 'vera-friend'],
    ['zh-CN', '小雨', 'xiaoyu@example.test', '小雨的朋友'],
  ] as const) {
    const away = await newUser({ username: name, locale });
    await addEmail(away, app.dataDir, address);
    await visit(away.page, '/settings');
    await formWithField(away.page, 'locale').locator('select[name=locale]').selectOption(locale);
    await submitForm(formWithField(away.page, 'locale'));
    // Away: the tab is closed.
    await away.context.close();

    const writer = await newUser({ username: friend, locale });
    await visit(writer.page, '/messages');
    await compose(writer.page, name, locale === 'en' ? 'Are we still on for Friday?\nI can bring the <b>maps</b>.' : '周五还去吗？\n我可以带<b>地图</b>。');
    await compose(writer.page, name, locale === 'en' ? 'Let me know by tonight.' : '今晚告诉我一声。');

    const { mail } = await mailTo(app.dataDir, address, '/messages/');
    expect(typeof mail.html).toBe('string');
    expect(mail.html as string).toContain('&lt;b&gt;');
    const viewer = await writer.context.newPage();
    await viewer.setContent(mail.html as string);
    await screenshot(viewer, `mail-unread-${locale === 'en' ? 'en' : 'zh'}`);
    await viewer.close();
  }
});

test('browser notifications are asked for only after "notify me", and shown for a message while the tab is hidden', async ({ app, newUser }) => {
  const wren = await newUser({ username: 'wren' });
  // Headless Chromium keeps every tab visible and shows notifications nowhere: the page is
  // told it is hidden when the test says so, and each notification is noted as it is made.
  await wren.context.addInitScript(() => {
    const noted = { asked: 0, shown: [] as { title: string; body: string | undefined }[] };
    (window as unknown as { __notes: typeof noted }).__notes = noted;
    const Real = window.Notification;
    const ask = Real.requestPermission.bind(Real);
    Real.requestPermission = ((...args: Parameters<typeof ask>) => {
      noted.asked += 1;
      return ask(...args);
    }) as typeof Real.requestPermission;
    class Noted extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        noted.shown.push({ title, body: options?.body });
      }
    }
    Object.defineProperty(window, 'Notification', { value: Noted, configurable: true, writable: true });
    Object.defineProperty(Document.prototype, 'hidden', { get: () => Boolean((window as unknown as { __hidden?: boolean }).__hidden), configurable: true });
  });
  const notes = () => wren.page.evaluate(() => (window as unknown as { __notes: { asked: number; shown: { title: string; body?: string }[] } }).__notes);

  await visit(wren.page, '/settings');
  await waitForRealtime(wren.page);
  expect((await notes()).asked).toBe(0);

  await wren.context.grantPermissions(['notifications'], { origin: app.url });
  await wren.page.locator('[data-notify-me]').click();
  await expect.poll(async () => (await notes()).asked).toBe(1);
  await expect.poll(() => wren.page.locator('[data-notify-state]').getAttribute('data-permission')).toBe('granted');

  const xan = await newUser({ username: 'xan' });
  await visit(xan.page, '/messages');
  // Visible tab: the title counts it, no system notification.
  await compose(xan.page, 'wren', 'seen in the tab');
  await expect.poll(() => wren.page.title()).toMatch(/^\(1\) /);
  // Hidden tab: a system notification naming the sender, with the text.
  await wren.page.evaluate(() => ((window as unknown as { __hidden: boolean }).__hidden = true));
  await compose(xan.page, 'wren', 'while you were elsewhere');
  await expect.poll(async () => (await notes()).shown).toEqual([{ title: 'xan', body: 'while you were elsewhere' }]);
});
