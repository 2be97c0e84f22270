import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPost, listedReplies, listedTitles, reply, replyIds, submit } from '../support/forum.ts';
import { giveRole } from '../support/roles.ts';
import { useTestServer } from '../support/server.ts';
import { csrfToken, registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const server = useTestServer();
let alice: SignedInUser;
let bob: SignedInUser;
let mod: SignedInUser;
beforeAll(async () => {
  [alice, bob, mod] = (await Promise.all(['alice', 'bob', 'keeper'].map((p) => registerUser(server.current.url, uniqueUsername(p))))) as [SignedInUser, SignedInUser, SignedInUser];
  await giveRole(mod, 'moderator');
});

const anonymous = () => request(server.current.url);
const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2, 8)}`;

async function firstReplyId(postId: string): Promise<string> {
  return replyIds((await anonymous().get(`/posts/${postId}`)).text)[0]!;
}

describe('editing', () => {
  it('lets the author edit a post; the page and the lists show the change and say it was edited', async () => {
    const id = await createPost(alice, unique('Before'), 'old text');
    const title = unique('After');
    const res = await submit(alice, `/posts/${id}/edit`, `/posts/${id}/edit`, { title, body: 'new **text**' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/posts/${id}`);
    const page = (await anonymous().get(`/posts/${id}`)).text;
    expect(page).toContain(`<h1 class="h3 post-title">${title}</h1>`);
    expect(page).toContain('new <strong>text</strong>');
    expect(page).toContain('data-edited');
    expect(listedTitles((await anonymous().get('/')).text)).toContain(title);
    expect((await anonymous().get('/boards/general')).text).toContain(title);
  });

  it('lets the author edit a reply, found by its id alone', async () => {
    const id = await createPost(alice, unique('Thread'));
    await reply(bob, id, 'first words');
    const rid = await firstReplyId(id);
    const res = await submit(bob, `/replies/${rid}/edit`, `/replies/${rid}/edit`, { body: 'second words' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/posts/${id}#reply-${rid}`);
    expect(listedReplies((await anonymous().get(`/posts/${id}`)).text)).toEqual(['second words']);
  });

  it('refuses anyone but the author or a moderator (403), and changes nothing', async () => {
    const id = await createPost(alice, unique('Mine'), 'original');
    await reply(alice, id, 'my reply');
    const rid = await firstReplyId(id);
    const token = await csrfToken(bob.agent, '/posts/new');
    expect((await bob.agent.post(`/posts/${id}/edit`).type('form').send({ title: 'hijack', body: 'x', _csrf: token })).status).toBe(403);
    expect((await bob.agent.post(`/posts/${id}/delete`).type('form').send({ _csrf: token })).status).toBe(403);
    expect((await bob.agent.post(`/replies/${rid}/edit`).type('form').send({ body: 'x', _csrf: token })).status).toBe(403);
    expect((await bob.agent.post(`/replies/${rid}/delete`).type('form').send({ _csrf: token })).status).toBe(403);
    expect((await bob.agent.get(`/posts/${id}/edit`)).status).toBe(403);
    const page = (await anonymous().get(`/posts/${id}`)).text;
    expect(page).toContain('original');
    expect(listedReplies(page)).toEqual(['my reply']);
    // No edit or delete controls for someone else's text.
    expect((await bob.agent.get(`/posts/${id}`)).text).not.toContain(`action="/posts/${id}/delete"`);
  });

  it('lets a moderator edit and delete anyone’s, and logs it', async () => {
    const id = await createPost(alice, unique('Spam'), 'buy now');
    await reply(bob, id, 'spam reply');
    const rid = await firstReplyId(id);
    expect((await submit(mod, `/posts/${id}`, `/replies/${rid}/edit`, { body: 'removed link' })).status).toBe(303);
    expect((await submit(mod, `/posts/${id}`, `/posts/${id}/edit`, { title: 'Cleaned', body: 'cleaned' })).status).toBe(303);
    expect((await anonymous().get(`/posts/${id}`)).text).toContain('cleaned');
    const log = (await mod.agent.get('/moderation')).text;
    expect(log).toContain('data-log-action="post.edit"');
    expect(log).toContain('data-log-action="reply.edit"');
  });

  it('validates an edit like a new post, keeping what was typed', async () => {
    const id = await createPost(alice, unique('Valid'));
    const res = await submit(alice, `/posts/${id}/edit`, `/posts/${id}/edit`, { title: '', body: 'kept body' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Please give your post a title.');
    expect(res.text).toContain('kept body');
    const form = await alice.agent.post(`/posts/${id}/edit`).type('form').send('title[$ne]=x&body=y');
    expect(form.status).toBe(403);
  });
});

describe('deleting', () => {
  it('removes a post without replies from its page, the home page and its board', async () => {
    const title = unique('Gone');
    const id = await createPost(alice, title);
    const res = await submit(alice, `/posts/${id}`, `/posts/${id}/delete`);
    expect(res.status).toBe(303);
    expect((await anonymous().get(`/posts/${id}`)).status).toBe(404);
    expect((await anonymous().get('/')).text).not.toContain(title);
    expect((await anonymous().get('/boards/general')).text).not.toContain(title);
  });

  it('keeps the replies of a deleted post under "post deleted"', async () => {
    const title = unique('Deleted with replies');
    const id = await createPost(alice, title, 'secret body');
    await reply(bob, id, 'an answer');
    expect((await submit(alice, `/posts/${id}`, `/posts/${id}/delete`)).status).toBe(303);
    const page = await anonymous().get(`/posts/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Post deleted');
    expect(page.text).not.toContain('secret body');
    expect(page.text).not.toContain(title);
    expect(listedReplies(page.text)).toEqual(['an answer']);
    expect((await anonymous().get('/')).text).not.toContain(title);
  });

  it('shows a deleted reply as "Reply deleted." in its place', async () => {
    const id = await createPost(alice, unique('Replies'));
    await reply(bob, id, 'oops');
    await reply(alice, id, 'still here');
    const rid = await firstReplyId(id);
    expect((await submit(bob, `/posts/${id}`, `/replies/${rid}/delete`)).status).toBe(303);
    const page = (await anonymous().get(`/posts/${id}`)).text;
    expect(page).not.toContain('oops');
    expect(page).toContain('Reply deleted.');
    expect(replyIds(page)).toHaveLength(2);
    expect((await submit(bob, `/posts/${id}`, `/replies/${rid}/edit`, { body: 'back' })).status).toBe(404);
  });
});

describe('quoting and preview', () => {
  it('starts the reply box with the quoted reply in one click', async () => {
    const id = await createPost(alice, unique('Quote me'));
    await reply(bob, id, 'wise words\nsecond line');
    const rid = await firstReplyId(id);
    const page = (await alice.agent.get(`/posts/${id}`)).text;
    const href = new RegExp(`href="([^"]*quote=${rid}[^"]*)"`).exec(page)![1]!.replaceAll('&amp;', '&');
    const quoted = await alice.agent.get(href);
    expect(quoted.text).toContain(`**@${bob.username}:**\n&gt; wise words\n&gt; second line\n\n</textarea>`);
  });

  it('renders a preview with the page’s renderer, needs the CSRF token, and refuses text over the limit', async () => {
    const _csrf = await csrfToken(alice.agent, '/posts/new');
    const ok = await alice.agent.post('/preview').set('X-CSRF-Token', _csrf).send({ body: '# Hi\n<script>x</script> [a](javascript:alert(1))' });
    expect(ok.status).toBe(200);
    expect(ok.body.html).toContain('<h1>Hi</h1>');
    expect(ok.body.html).toContain('&lt;script&gt;');
    expect(ok.body.html).not.toContain('href="javascript');
    expect((await alice.agent.post('/preview').send({ body: 'x' })).status).toBe(403);
    expect((await alice.agent.post('/preview').set('X-CSRF-Token', _csrf).send({ body: 'y'.repeat(5001) })).status).toBe(400);
    expect((await alice.agent.post('/preview').set('X-CSRF-Token', _csrf).send({ body: { $ne: 1 } })).status).toBe(400);
  });
});
