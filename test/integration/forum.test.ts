import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPost, listedReplies, listedTitles, reply } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { csrfToken, registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const server = useTestServer();
let alice: SignedInUser;
let bob: SignedInUser;
beforeAll(async () => {
  alice = await registerUser(server.current.url, uniqueUsername('alice'));
  bob = await registerUser(server.current.url, uniqueUsername('bob'));
});

const anonymous = () => request(server.current.url);
const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2, 8)}`;

describe('writing a post', () => {
  it('publishes it and redirects (303) to its page, which shows the author with an avatar', async () => {
    const title = unique('Hello world');
    const id = await createPost(alice, title, 'First line\nsecond line');
    // The author sees a confirmation once.
    expect((await alice.agent.get(`/posts/${id}`)).text).toContain('Your post is published.');
    expect((await alice.agent.get(`/posts/${id}`)).text).not.toContain('Your post is published.');
    const page = await anonymous().get(`/posts/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<h1 class="h3 post-title">${title}</h1>`);
    expect(page.text).toContain('First line<br>\nsecond line');
    expect(page.text).toMatch(new RegExp(`<img class="avatar" src="/avatars/${alice.username}.svg" alt="${alice.username}" data-chat-user="${alice.username}"`));
    expect(page.text).toContain(`href="/users/${alice.username}"`);
  });

  it('lists the new post first on the home page, and counts it on the author’s profile', async () => {
    const writer = await registerUser(server.current.url);
    const title = unique('Newest');
    await createPost(writer, title);
    const home = await anonymous().get('/');
    expect(listedTitles(home.text)[0]).toBe(title);
    const profile = await anonymous().get(`/users/${writer.username}`);
    expect(profile.text).toMatch(/data-post-count>1</);
  });

  it('sends visitors who are not signed in to sign in first', async () => {
    const res = await anonymous().get('/posts/new');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fposts%2Fnew');
  });

  it.each([
    ['no title', { title: '', body: 'text' }, 'Please give your post a title.'],
    ['a blank title', { title: '   ', body: 'text' }, 'Please give your post a title.'],
    ['a blank body', { title: 'A title', body: ' \n ' }, 'Please write something first.'],
    ['a 121-character title', { title: 'x'.repeat(121), body: 'text' }, 'A title is at most 120 characters long.'],
    ['a 5001-character body', { title: 'A title', body: 'y'.repeat(5001) }, 'That is too long: 5000 characters at most.'],
  ])('refuses %s with a clear message, keeping what was typed', async (_label, fields, message) => {
    const _csrf = await csrfToken(alice.agent, '/posts/new');
    const res = await alice.agent.post('/posts').type('form').send({ ...fields, _csrf });
    expect(res.status).toBe(400);
    expect(res.text).toContain(message);
    if (fields.body.trim()) expect(res.text).toContain(`>${fields.body}</textarea>`);
  });

  it('accepts a body of exactly the limit, counted in characters (not bytes)', async () => {
    const id = await createPost(alice, unique('Long'), '字'.repeat(5000));
    expect((await anonymous().get(`/posts/${id}`)).text).toContain('字'.repeat(5000));
  });

  it('refuses a form without a CSRF token, and stores nothing', async () => {
    const title = unique('Forged');
    const res = await alice.agent.post('/posts').type('form').send({ title, body: 'text' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your form expired or was sent from another site.');
    expect((await anonymous().get('/')).text).not.toContain(title);
  });

  it('never lets a form field become a query operator', async () => {
    const _csrf = await csrfToken(alice.agent, '/posts/new');
    const form = await alice.agent.post('/posts').type('form').send(`title[$ne]=x&body[$ne]=y&_csrf=${encodeURIComponent(_csrf)}`);
    expect(form.status).toBe(400);
    expect(form.text).toContain('Please give your post a title.');
    const json = await alice.agent.post('/posts').set('X-CSRF-Token', _csrf).send({ title: { $ne: null }, body: { $gt: '' } });
    expect(json.status).toBe(400);
  });

  it('shows <script> in titles and bodies as text, on the post page and the home page', async () => {
    const title = '<script>alert("title")</script>';
    const id = await createPost(alice, title, '<script>alert(1)</script> & <img src=x onerror=alert(2)>');
    const page = await anonymous().get(`/posts/${id}`);
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).toContain('&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;');
    const home = await anonymous().get('/');
    expect(home.text).not.toContain('<script>alert');
    expect(home.text).toContain('&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;');
  });

  it('makes http(s) links clickable and nothing else', async () => {
    const id = await createPost(alice, unique('Links'), 'See https://example.com/a?b=1&c=2. Not javascript:alert(1) nor www.example.org');
    const page = await anonymous().get(`/posts/${id}`);
    expect(page.text).toContain(
      '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow ugc noopener">https://example.com/a?b=1&amp;c=2</a>.',
    );
    expect(page.text).not.toContain('href="javascript');
    expect(page.text).not.toContain('href="www.');
  });
});

describe('reading a post', () => {
  it.each(['/posts/123', '/posts/not-an-id', `/posts/${'f'.repeat(24)}`, '/posts/%24ne'])('answers 404 for %s, showing no internals', async (path) => {
    const res = await anonymous().get(path);
    expect(res.status).toBe(404);
    expect(res.text).toContain('That post does not exist.');
    expect(res.text).not.toMatch(/CastError|at .*\.ts|stack/i);
  });

  it('accepts an id in upper case', async () => {
    const title = unique('Case');
    const id = await createPost(alice, title);
    expect((await anonymous().get(`/posts/${id.toUpperCase()}`)).text).toContain(title);
  });

  it('offers the reply form only to signed-in members', async () => {
    const id = await createPost(alice, unique('Form'));
    const guest = await anonymous().get(`/posts/${id}`);
    expect(guest.text).not.toContain('data-reply-form');
    expect(guest.text).toContain(`href="/login?next=%2Fposts%2F${id}"`);
    const member = await bob.agent.get(`/posts/${id}`);
    expect(member.text).toContain(`action="/posts/${id}/replies"`);
    expect(member.text).toMatch(/name="_csrf" value="[^"]+"/);
  });

  it('gives readers who are not signed in no session (no cookie, nothing stored)', async () => {
    const id = await createPost(alice, unique('Cookieless'));
    for (const path of ['/', `/posts/${id}`, `/users/${alice.username}`]) {
      const res = await anonymous().get(path);
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });
});

describe('replying', () => {
  it('adds the reply under the post with its author, and moves the post to the top of the home page', async () => {
    const older = await createPost(alice, unique('Older'));
    const newerTitle = unique('Newer');
    await createPost(alice, newerTitle);
    const location = await reply(bob, older, 'I agree with https://example.com');
    expect(location).toMatch(new RegExp(`^/posts/${older}#reply-[0-9a-f]{24}$`));
    const page = await anonymous().get(`/posts/${older}`);
    expect(listedReplies(page.text)).toEqual(['I agree with <a href="https://example.com" rel="nofollow ugc noopener">https://example.com</a>']);
    expect(page.text).toContain(`data-chat-user="${bob.username}"`);
    expect(page.text).toContain('(1 reply)');
    const titles = listedTitles((await anonymous().get('/')).text);
    expect(titles.indexOf(newerTitle)).toBe(1);
    expect((await anonymous().get(`/users/${bob.username}`)).text).toMatch(/data-reply-count>\d+</);
  });

  it('shows <script> in a reply as text', async () => {
    const id = await createPost(alice, unique('Escape'));
    await reply(bob, id, '<script>alert("reply")</script>');
    const page = await anonymous().get(`/posts/${id}`);
    expect(page.text).not.toContain('<script>alert');
    expect(listedReplies(page.text)).toEqual(['&lt;script&gt;alert(&quot;reply&quot;)&lt;/script&gt;']);
  });

  it('refuses an empty reply with a message, and a CSRF-less one with 403', async () => {
    const id = await createPost(alice, unique('Empty'));
    const _csrf = await csrfToken(bob.agent, `/posts/${id}`);
    const empty = await bob.agent.post(`/posts/${id}/replies`).type('form').send({ body: '  ', _csrf });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Please write something first.');
    const tooLong = await bob.agent.post(`/posts/${id}/replies`).type('form').send({ body: 'z'.repeat(5001), _csrf });
    expect(tooLong.status).toBe(400);
    expect(tooLong.text).toContain(`>${'z'.repeat(5001)}</textarea>`);
    const forged = await bob.agent.post(`/posts/${id}/replies`).type('form').send({ body: 'hi' });
    expect(forged.status).toBe(403);
    expect(listedReplies((await anonymous().get(`/posts/${id}`)).text)).toEqual([]);
  });

  it('answers 404 when replying to a post that does not exist', async () => {
    const _csrf = await csrfToken(bob.agent, '/');
    for (const id of ['abc', 'a'.repeat(24)]) {
      const res = await bob.agent.post(`/posts/${id}/replies`).type('form').send({ body: 'hello', _csrf });
      expect(res.status).toBe(404);
    }
  });

  it('keeps every reply when many arrive at once', async () => {
    const id = await createPost(alice, unique('Busy'));
    const users = [alice, bob];
    const tokens = [await csrfToken(alice.agent, '/'), await csrfToken(bob.agent, '/')];
    const bodies = Array.from({ length: 12 }, (_, i) => `concurrent ${i}`);
    await Promise.all(bodies.map((body, i) => reply(users[i % 2]!, id, body, tokens[i % 2])));
    const page = await anonymous().get(`/posts/${id}`);
    expect(listedReplies(page.text).sort()).toEqual([...bodies].sort());
    expect(page.text).toContain('(12 replies)');
    // Each reply has its own place in the thread.
    const places = [...page.text.matchAll(/>Reply (\d+)</g)].map((m) => Number(m[1]));
    expect(places).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('pages the replies twenty at a time, oldest first, and sends the author to the page of their reply', async () => {
    const id = await createPost(alice, unique('Long thread'));
    const locations: string[] = [];
    for (let i = 1; i <= 21; i++) locations.push(await reply(i % 2 ? bob : alice, id, `reply ${i}`));
    expect(locations[19]).toMatch(new RegExp(`^/posts/${id}#reply-`));
    expect(locations[20]).toMatch(new RegExp(`^/posts/${id}\\?page=2#reply-`));
    const first = await anonymous().get(`/posts/${id}`);
    expect(listedReplies(first.text)).toEqual(Array.from({ length: 20 }, (_, i) => `reply ${i + 1}`));
    expect(first.text).toContain('Page 1 of 2');
    expect(first.text).toContain(`href="/posts/${id}?page=2" rel="next"`);
    const second = await anonymous().get(`/posts/${id}?page=2`);
    expect(listedReplies(second.text)).toEqual(['reply 21']);
    expect(second.text).toContain(`href="/posts/${id}" rel="prev"`);
    const beyond = await anonymous().get(`/posts/${id}?page=9`);
    expect(beyond.status).toBe(200);
    expect(beyond.text).toContain('There are no replies on this page.');
    for (const junk of ['abc', '-1', '0', '1.5']) {
      expect(listedReplies((await anonymous().get(`/posts/${id}?page=${junk}`)).text)).toHaveLength(20);
    }
  });
});
