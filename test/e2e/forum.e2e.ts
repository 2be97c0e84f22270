// The forum as members use it (issue 13): boards, Markdown with a preview, quoting,
// editing and deleting. Writes the home-with-boards and formatted-post screenshots.
import { allowProblems, screenshot, submitForm, visit } from './support/browser.ts';
import { expect, test } from './support/fixtures.ts';
import { createPost, formTo, promote } from './support/forum.ts';

const FORMATTED = [
  '## Meeting notes',
  '',
  'We agreed on **three** things, see the [Socket.IO docs](https://socket.io/docs/v4/):',
  '',
  '1. rooms per user',
  '2. `adduser` on connect',
  '3. an _offline_ queue',
  '',
  '> Every tab joins the same room.',
  '',
  '```js',
  'io.to(`user:${id}`).emit("sendback", message);',
  '```',
].join('\n');

test('an admin opens a board; a member writes a formatted post there after previewing it; the home page lists the boards', async ({ app, newUser }) => {
  const admin = await newUser({ username: 'ada' });
  // The first admin is made with the app stopped: ada's open tab loses its connection meanwhile.
  allowProblems(admin, /ERR_CONNECTION_REFUSED/);
  await promote(app, 'ada');
  await visit(admin.page, '/admin');
  const create = formTo(admin.page, '/admin/boards');
  await create.locator('[name=slug]').fill('realtime');
  await create.locator('[name=name]').fill('Real-time');
  await create.locator('[name=description]').fill('Sockets, rooms and live messages');
  expect((await submitForm(create)).redirectedTo).toBe('/admin');
  await createPost(admin.page, { title: 'Welcome! Read this first', body: 'Be kind. Use **Preview** before you post.' });

  const member = await newUser({ username: 'mei' });
  await visit(member.page, '/');
  await member.page.locator('a[href="/boards/realtime"]').click();
  await member.page.waitForURL('**/boards/realtime');
  await member.page.getByRole('link', { name: 'Write a post' }).click();
  await member.page.waitForURL('**/posts/new?board=realtime');
  expect(await member.page.locator('select[name=board]').inputValue()).toBe('realtime');
  await member.page.locator('[name=title]').fill('How the live messages work');
  await member.page.locator('textarea[name=body]').fill(FORMATTED);

  // Preview shows it as it will be published, without leaving the page.
  await member.page.locator('[data-editor-tab=preview]').click();
  const preview = member.page.locator('[data-markdown-preview]');
  await preview.locator('h2', { hasText: 'Meeting notes' }).waitFor();
  expect(await preview.locator('strong').innerText()).toBe('three');
  expect(await preview.locator('ol > li').count()).toBe(3);
  expect(await preview.locator('a').getAttribute('rel')).toBe('nofollow ugc noopener');
  expect(await member.page.locator('textarea[name=body]').isVisible()).toBe(false);
  await member.page.locator('[data-editor-tab=write]').click();
  expect(await member.page.locator('textarea[name=body]').inputValue()).toBe(FORMATTED);

  const published = await submitForm(member.page.locator('form[data-post-form]'));
  expect(published.redirectedTo).toMatch(/^\/posts\/[0-9a-f]{24}$/);
  const body = member.page.locator('[data-post-body]');
  expect(await body.locator('blockquote').innerText()).toBe('Every tab joins the same room.');
  expect(await body.locator('pre code').innerText()).toContain('io.to(`user:${id}`)');
  expect(await body.locator('a[href="https://socket.io/docs/v4/"]').getAttribute('rel')).toBe('nofollow ugc noopener');
  expect(await member.page.locator('[data-post-board=realtime]').innerText()).toBe('Real-time');
  await screenshot(member.page, 'formatted-post');

  await visit(member.page, '/');
  const boards = member.page.locator('[data-board-list]');
  expect(await boards.locator('a[href="/boards/general"]').innerText()).toBe('General');
  expect(await boards.locator('[data-board=general] [data-board-post-count]').getAttribute('data-board-post-count')).toBe('1');
  expect(await boards.locator('[data-board=realtime] [data-board-post-count]').getAttribute('data-board-post-count')).toBe('1');
  await screenshot(member.page, 'home-boards');
});

test('quoting a reply is one click; the author edits the post and deletes a reply', async ({ newUser }) => {
  const author = await newUser({ username: 'omar' });
  await visit(author.page, '/posts/new');
  await author.page.locator('[name=title]').fill('Best ramen in town?');
  await author.page.locator('textarea[name=body]').fill('Looking for tips.');
  const postPath = (await submitForm(author.page.locator('form[data-post-form]'))).redirectedTo!;

  const reader = await newUser({ username: 'lina' });
  await visit(reader.page, postPath);
  await reader.page.locator('textarea[name=body]').fill('The place by the station.');
  await submitForm(reader.page.locator('form[data-reply-form]'));

  await visit(author.page, postPath);
  const theReply = author.page.locator('[data-reply-id]').first();
  await theReply.locator('[data-quote]').click();
  await expect.poll(() => author.page.locator('textarea[name=body]').inputValue()).toBe('**@lina:**\n> The place by the station.\n\n');
  await author.page.locator('textarea[name=body]').press('End');
  await author.page.locator('textarea[name=body]').pressSequentially('Thanks!');
  await submitForm(author.page.locator('form[data-reply-form]'));
  const quoteReply = author.page.locator('[data-reply-id]').nth(1);
  expect(await quoteReply.locator('blockquote').innerText()).toBe('The place by the station.');

  // Edit the post: the page says it was edited.
  await author.page.locator('[data-post-actions] [data-edit]').click();
  await author.page.locator('[name=title]').fill('Best ramen in town? (found it)');
  expect((await submitForm(author.page.locator('form[data-edit-form]'))).redirectedTo).toBe(postPath);
  expect(await author.page.locator('h1.post-title').innerText()).toBe('Best ramen in town? (found it)');
  await author.page.locator('[data-post-id] [data-edited]').waitFor();

  // The reader deletes their own reply; its place says so; nobody else gets the buttons.
  await visit(reader.page, postPath);
  expect(await reader.page.locator('[data-post-actions] [data-edit]').count()).toBe(0);
  const own = reader.page.locator('[data-reply-id]').first();
  await submitForm(own.locator('form[data-delete]'));
  await reader.page.locator('[data-reply-id]').first().getByText('Reply deleted.').waitFor();
  expect(await reader.page.locator('main').getByText('The place by the station.').count()).toBe(1); // only inside the quote
});
