// Notifications as members observe them: the header's count, live in every tab over
// real sockets, the notifications page and its links, mentions in posts and replies.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPost, reply } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { closeAllSockets, collect, connectAs, nextEvent } from '../support/sockets.ts';
import { csrfToken, registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const MENTIONS_PER_TEXT = 3;
const server = useTestServer({ MENTIONS_PER_TEXT: String(MENTIONS_PER_TEXT) });
const member = (prefix = 'm') => registerUser(server.current.url, uniqueUsername(prefix));
let alice: SignedInUser;
let bob: SignedInUser;
beforeAll(async () => {
  [alice, bob] = await Promise.all([member('alice'), member('bob')]);
});
afterEach(() => closeAllSockets());

/** The header's count as a page shows it: the data-notifications value, or 0 when absent. */
async function headerCount(user: SignedInUser): Promise<number> {
  const page = await user.agent.get('/posts/new');
  const match = /data-notifications-count[^>]*?data-notifications="(\d+)"/.exec(page.text);
  return match ? Number(match[1]) : 0;
}

interface Listed {
  href: string;
  text: string;
  unread: boolean;
}

/** Opens the notifications page (which reads them) and returns what it lists. */
async function openNotifications(user: SignedInUser): Promise<Listed[]> {
  const page = await user.agent.get('/notifications');
  expect(page.status).toBe(200);
  return [...page.text.matchAll(/<li class="notification[^"]*" data-notification [^>]*?(data-notification-unread)?>[\s\S]*?<a class="notification-link" href="([^"]+)">([^<]*)<\/a>/g)].map((m) => ({
    href: m[2]!.replaceAll('&amp;', '&'),
    text: m[3]!,
    unread: Boolean(m[1]),
  }));
}

describe('a reply to your post', () => {
  it('counts in the header of every open tab at once, and the page links to the exact reply', async () => {
    const author = await member('author');
    const postId = await createPost(author, 'Where to eat', 'Any ideas?');
    const tabs = await Promise.all([connectAs(server.current.url, author), connectAs(server.current.url, author)]);
    const heard = tabs.map((tab) => nextEvent(tab, 'notifications', (p) => p.unread === 1));

    const location = await reply(bob, postId, 'The noodle place.');
    for (const payload of await Promise.all(heard)) expect(payload.unread).toBe(1);
    expect(await headerCount(author)).toBe(1);

    const listed = await openNotifications(author);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ href: location, unread: true, text: `${bob.username} replied to “Where to eat”` });
    expect(location).toMatch(/#reply-[0-9a-f]{24}$/);
  });

  it('is read once the page is opened: every tab hears the count drop to none, and the header loses it', async () => {
    const author = await member('author');
    const postId = await createPost(author, 'Read on open');
    await reply(bob, postId, 'first');
    const tab = await connectAs(server.current.url, author);
    const cleared = nextEvent(tab, 'notifications', (p) => p.unread === 0);
    await openNotifications(author);
    expect((await cleared).unread).toBe(0);
    const page = await author.agent.get('/posts/new');
    expect(page.text).not.toContain('data-notifications=');
    // Read now, still listed.
    expect((await openNotifications(author))[0]?.unread).toBe(false);
  });

  it('merges further unread replies to the same post into one notification that opens the latest', async () => {
    const author = await member('author');
    const postId = await createPost(author, 'Busy thread');
    await reply(bob, postId, 'one');
    await reply(alice, postId, 'two');
    const latest = await reply(bob, postId, 'three');
    expect(await headerCount(author)).toBe(1);
    const listed = await openNotifications(author);
    expect(listed).toEqual([{ href: latest, unread: true, text: `3 new replies to “Busy thread”, the latest by ${bob.username}` }]);
    // Once read, the next reply starts a new one.
    await reply(alice, postId, 'four');
    const after = await openNotifications(author);
    expect(after.map((n) => n.unread)).toEqual([true, false]);
  });

  it('never notifies an author of their own reply', async () => {
    const author = await member('author');
    const postId = await createPost(author, 'Talking to myself');
    await reply(author, postId, 'a reply to myself');
    expect(await headerCount(author)).toBe(0);
    expect(await openNotifications(author)).toEqual([]);
  });
});

describe('mentions', () => {
  it('notify the member named in a post, live, and link to their profile on the page', async () => {
    const named = await member('named');
    const tab = await connectAs(server.current.url, named);
    const heard = nextEvent(tab, 'notifications', (p) => p.unread === 1);
    const postId = await createPost(bob, 'Question for you', `What do you think, @${named.username}?`);
    expect((await heard).unread).toBe(1);
    const listed = await openNotifications(named);
    expect(listed[0]).toMatchObject({ href: `/posts/${postId}`, text: `${bob.username} mentioned you in “Question for you”` });
    const page = await bob.agent.get(`/posts/${postId}`);
    expect(page.text).toContain(`<a class="mention" href="/users/${named.username}" data-mention="${named.username}">@${named.username}</a>?`);
  });

  it('in a reply link to that reply; the post author hears only of the reply, not twice', async () => {
    const author = await member('author');
    const named = await member('named');
    const postId = await createPost(author, 'Thread');
    const location = await reply(bob, postId, `cc @${named.username} and @${author.username}`);
    expect((await openNotifications(named))[0]?.href).toBe(location);
    const authorSees = await openNotifications(author);
    expect(authorSees.map((n) => n.text)).toEqual([`${bob.username} replied to “Thread”`]);
  });

  it(`notify at most ${MENTIONS_PER_TEXT} members per text, the first named; the rest stay plain text`, async () => {
    const named = await Promise.all(Array.from({ length: MENTIONS_PER_TEXT + 2 }, () => member('many')));
    const postId = await createPost(bob, 'Roll call', named.map((m) => `@${m.username}`).join(' '));
    const counts = await Promise.all(named.map(headerCount));
    expect(counts).toEqual(named.map((_m, i) => (i < MENTIONS_PER_TEXT ? 1 : 0)));
    const page = await bob.agent.get(`/posts/${postId}`);
    expect(page.text.match(/class="mention"/g)).toHaveLength(MENTIONS_PER_TEXT);
  });

  it('ignore unknown names, e-mail addresses, oneself, and anything inside a link', async () => {
    const named = await member('named');
    const postId = await createPost(
      bob,
      'No mentions here',
      `@nobody${Date.now()} write to x@${named.username} or https://example.com/@${named.username} and @${bob.username}`,
    );
    expect(await headerCount(named)).toBe(0);
    expect(await headerCount(bob)).toBe(0);
    const page = await bob.agent.get(`/posts/${postId}`);
    expect(page.text).not.toContain(`data-mention="${named.username}"`);
    expect(page.text).toContain(`href="https://example.com/@${named.username}"`);
  });

  it('cannot inject markup through a name-like text', async () => {
    const postId = await createPost(bob, 'Escaping', '@<script>alert(1)</script> @"onmouseover=alert(1)');
    const page = await bob.agent.get(`/posts/${postId}`);
    expect(page.text).not.toContain('<script>alert(1)');
    expect(page.text).toContain('@&lt;script&gt;');
  });
});

describe('what the chat tells through notifications (notifications/message-notices.ts)', () => {
  it('a message request notifies its recipient, merging further requests from the same member, and leads to the conversation', async () => {
    const recipient = await member('recipient');
    const stranger = await member('stranger');
    const notices = server.current.messageNotices;
    await notices.request(recipient.id, { id: stranger.id, username: stranger.username }, 'hi there');
    await notices.request(recipient.id, { id: stranger.id, username: stranger.username }, 'are you there?');
    expect(await headerCount(recipient)).toBe(1);
    expect(await openNotifications(recipient)).toEqual([
      { href: `/messages/${stranger.username}`, unread: true, text: `2 message requests, the latest from ${stranger.username}` },
    ]);
  });

  it('mentions in a group message notify its members only, never the author or an outsider', async () => {
    const [author, inside, outside] = await Promise.all([member('author'), member('inside'), member('outside')]);
    await server.current.messageNotices.mentions({
      content: `@${inside.username} @${outside.username} @${author.username} look`,
      author: { id: author.id, username: author.username },
      members: [author.id, inside.id],
      href: '/messages/c/abc',
      title: 'Trip planning',
      conversationId: 'abc',
    });
    expect(await Promise.all([author, inside, outside].map(headerCount))).toEqual([0, 1, 0]);
    expect((await openNotifications(inside))[0]).toMatchObject({ href: '/messages/c/abc', text: `${author.username} mentioned you in “Trip planning”` });
  });
});

describe('mark all read', () => {
  it('clears the count without opening the page, and refuses a form without its CSRF token', async () => {
    const author = await member('author');
    const postId = await createPost(author, 'Mark me');
    await reply(bob, postId, 'hello');
    expect(await headerCount(author)).toBe(1);
    const forged = await author.agent.post('/notifications/read').type('form').send({});
    expect(forged.status).toBe(403);
    expect(await headerCount(author)).toBe(1);
    const tab = await connectAs(server.current.url, author);
    const events = collect(tab, 'notifications');
    const _csrf = await csrfToken(author.agent, '/posts/new');
    const res = await author.agent.post('/notifications/read').type('form').send({ _csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/notifications');
    expect(await headerCount(author)).toBe(0);
    await expect.poll(() => events.map((e) => e.unread)).toEqual([0]);
  });

  it('sends visitors who are not signed in to sign in, and answers the count API 401', async () => {
    const { default: request } = await import('supertest');
    const page = await request(server.current.url).get('/notifications');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Fnotifications');
    expect((await request(server.current.url).get('/api/notifications')).status).toBe(401);
    const count = await alice.agent.get('/api/notifications');
    expect(count.body).toMatchObject({ ok: true, unread: expect.any(Number), v: expect.any(Number) });
  });
});
