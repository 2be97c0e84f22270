// The messages pages as a browser without JavaScript sees them, and the JSON they read.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { MessageModel } from '../../src/messaging/models.ts';
import { sendTo, useTestServer, type SentAck } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { connectAs, nextEvent } from '../support/sockets.ts';
import { csrfToken, registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

async function sendAs(from: SignedInUser, to: SignedInUser, content: string): Promise<SentAck> {
  const socket = await connectAs(server.url, from);
  const ack = await sendTo(socket, to, content);
  socket.disconnect();
  return ack;
}

/** The HTML of one element found by an attribute value (good enough for our own markup). */
function rowFor(html: string, username: string): string {
  const start = html.indexOf(`data-username="${username}"`);
  if (start < 0) throw new Error(`no row for ${username}`);
  const end = html.indexOf('</li>', start);
  return html.slice(start, end);
}

describe('GET /messages', () => {
  it('sends visitors who are not signed in to the sign-in page', async () => {
    const res = await request(server.url).get('/messages');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fmessages');
  });

  it('lists conversations latest first, with avatar, preview, time, unread badge and online dot', async () => {
    const [me, quiet, chatty] = await Promise.all([registerUser(server.url), registerUser(server.url), registerUser(server.url)]);
    await sendAs(me, quiet, 'I wrote first');
    await sendAs(chatty, me, 'one');
    await sendAs(chatty, me, 'two, the latest');
    const chattyOnline = await connectAs(server.url, chatty);

    const page = await me.agent.get('/messages');
    expect(page.status).toBe(200);
    const html = page.text;
    expect(html.indexOf(`data-username="${chatty.username}"`)).toBeLessThan(html.indexOf(`data-username="${quiet.username}"`));

    const chattyRow = rowFor(html, chatty.username);
    expect(chattyRow).toContain(`src="/avatars/${chatty.username}.svg"`);
    expect(chattyRow).toContain('two, the latest');
    expect(chattyRow).toMatch(/<time[^>]*datetime="\d{4}-\d\d-\d\dT/);
    expect(chattyRow).toContain('data-unread="2"');
    expect(chattyRow).toMatch(/data-online-dot data-online>/);

    const quietRow = rowFor(html, quiet.username);
    expect(quietRow).toContain('You: I wrote first');
    expect(quietRow).not.toContain('data-unread=');
    expect(quietRow).not.toMatch(/data-online-dot data-online>/);
    chattyOnline.disconnect();
  });

  it('shows the unread total in the header badge and the page title', async () => {
    const [me, other] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    for (const text of ['a', 'b', 'c']) await sendAs(other, me, text);
    const page = await me.agent.get('/messages');
    expect(page.text).toContain('<title>(3) Messages · Parley</title>');
    expect(page.text).toMatch(/data-unread-total data-inbox-version="\d+" data-unread="3"/);
    const home = await me.agent.get('/');
    expect(home.text).toMatch(/<title>\(3\) Parley<\/title>/);
  });

  it('has a compose form with a CSRF token, a username field and a message field', async () => {
    const me = await registerUser(server.url);
    const page = await me.agent.get('/messages');
    const form = page.text.slice(page.text.indexOf('data-compose-form'));
    expect(form).toMatch(/name="_csrf" value="[^"]+"/);
    expect(form).toContain('name="to"');
    expect(form).toMatch(/<textarea[^>]*name="content"/);
    expect(page.text).toContain('data-inbox-empty>');
  });
});

describe('POST /messages (the compose form without JavaScript)', () => {
  it('sends through the same service: stored, delivered live, then the conversation opens', async () => {
    const [me, friend] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const friendSocket = await connectAs(server.url, friend);
    const arrived = nextEvent(friendSocket, 'sendback');
    const _csrf = await csrfToken(me.agent, '/messages');
    const res = await me.agent.post('/messages').type('form').send({ _csrf, to: friend.username.toUpperCase(), content: 'sent by form' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/messages/${friend.username}`);
    expect((await arrived).message).toMatchObject({ from: me.id, to: friend.id, content: 'sent by form' });
    expect(await MessageModel.countDocuments({ from: me.id, content: 'sent by form' })).toBe(1);
  });

  it('answers an unknown username with a clear error, keeping what was typed', async () => {
    const me = await registerUser(server.url);
    const _csrf = await csrfToken(me.agent, '/messages');
    const res = await me.agent.post('/messages').type('form').send({ _csrf, to: 'nobody-here', content: 'hello <b>there</b>' });
    expect(res.status).toBe(404);
    expect(res.text).toContain('There is no member with that username.');
    expect(res.text).toContain('value="nobody-here"');
    expect(res.text).toContain('hello &lt;b&gt;there&lt;/b&gt;</textarea>');
  });

  it.each([
    [{ to: '', content: 'hi' }, 400, 'Please say who the message is for.'],
    [{ content: 'hi' }, 400, 'Please say who the message is for.'],
    [{ to: 'someone', content: '   ' }, 400, 'Please write a message first.'],
    [{ to: 'someone' }, 400, 'Please write a message first.'],
  ])('refuses %j with %i and says why', async (fields, status, message) => {
    const me = await registerUser(server.url);
    const _csrf = await csrfToken(me.agent, '/messages');
    const res = await me.agent.post('/messages').type('form').send({ _csrf, ...fields });
    expect(res.status).toBe(status);
    expect(res.text).toContain(message);
  });

  it('refuses a form without its CSRF token', async () => {
    const [me, friend] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const res = await me.agent.post('/messages').type('form').send({ to: friend.username, content: 'forged' });
    expect(res.status).toBe(403);
    expect(await MessageModel.countDocuments({ content: 'forged' })).toBe(0);
  });
});

describe('GET /messages/:username', () => {
  it('shows the conversation oldest first in a chat pane, each message with its id', async () => {
    const [me, friend] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const first = await sendAs(me, friend, 'first');
    const second = await sendAs(friend, me, 'second');
    const page = await me.agent.get(`/messages/${encodeURIComponent(friend.username)}`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<section[^>]*data-chat[ >]/);
    expect(page.text).toContain('data-chat-log');
    expect(page.text).toMatch(/<form[^>]*data-chat-form/);
    expect(page.text).toMatch(/<textarea[^>]*name="content"/);
    const firstAt = page.text.indexOf(`data-message-id="${first.message._id}"`);
    const secondAt = page.text.indexOf(`data-message-id="${second.message._id}"`);
    expect(firstAt).toBeGreaterThan(0);
    expect(secondAt).toBeGreaterThan(firstAt);
  });

  it('stores HTML in a message as it was typed, and shows it as text', async () => {
    const [me, friend] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const hostile = '<script>alert("x")</script><img src=x onerror="alert(1)"> & "quotes"';
    const ack = await sendAs(friend, me, hostile);
    expect((await MessageModel.findById(ack.message._id).lean())?.content).toBe(hostile);
    for (const path of [`/messages/${encodeURIComponent(friend.username)}`, '/messages']) {
      const page = await me.agent.get(path);
      expect(page.text).not.toContain('<script>alert');
      expect(page.text).not.toContain('<img src=x');
      // As text: the list escapes through EJS (&#34;), the conversation through the Markdown renderer (&quot;).
      expect(page.text.replaceAll('&quot;', '&#34;')).toContain('&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &#34;quotes&#34;');
    }
  });

  it('answers 404 for an unknown member and sends a member\u2019s own name back to the list', async () => {
    const me = await registerUser(server.url);
    expect((await me.agent.get('/messages/nobody-at-all')).status).toBe(404);
    const own = await me.agent.get(`/messages/${encodeURIComponent(me.username)}`);
    expect(own.status).toBe(303);
    expect(own.headers.location).toBe('/messages');
  });

  it('works for members with Chinese usernames', async () => {
    const [me, xiaoming] = await Promise.all([registerUser(server.url), registerUser(server.url, `小明${Date.now() % 100000}`)]);
    await sendAs(xiaoming, me, '你好');
    const list = await me.agent.get('/messages');
    expect(list.text).toContain(`href="/messages/${encodeURIComponent(xiaoming.username)}"`);
    const page = await me.agent.get(`/messages/${encodeURIComponent(xiaoming.username)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('你好');
  });

  it('takes a reply by plain form post', async () => {
    const [me, friend] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const path = `/messages/${encodeURIComponent(friend.username)}`;
    const _csrf = await csrfToken(me.agent, path);
    const res = await me.agent.post(path).type('form').send({ _csrf, content: 'reply without js' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(path);
    const page = await me.agent.get(path);
    expect(page.text).toContain('reply without js');
    const empty = await me.agent.post(path).type('form').send({ _csrf, content: ' ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Please write a message first.');
  });
});

describe('JSON endpoints', () => {
  it('answer 401 to visitors who are not signed in', async () => {
    for (const path of ['/api/inbox', '/api/users/suggest?q=a', '/messages/someone/history']) {
      const res = await request(server.url).get(path).set('Accept', 'application/json');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ ok: false, error: 'Please sign in to use messaging.' });
    }
  });

  it('refuse a history cursor that is not a whole number', async () => {
    const [me, friend] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    for (const cursor of ['before=abc', 'after=-1', 'before=1.5', 'before=1&before=2']) {
      const res = await me.agent.get(`/messages/${encodeURIComponent(friend.username)}/history?${cursor}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('The page cursor must be a whole number.');
    }
  });

  it('suggest usernames by prefix, people already talked with first, never oneself', async () => {
    const stem = uniqueUsername('sg').slice(0, 8);
    const [me, contact, stranger, other] = await Promise.all([
      registerUser(server.url, `${stem}me`),
      registerUser(server.url, `${stem}Zed`),
      registerUser(server.url, `${stem}abe`),
      registerUser(server.url, uniqueUsername('zz')),
    ]);
    await sendAs(contact, me, 'hi');
    const res = await me.agent.get(`/api/users/suggest?q=${stem.toUpperCase()}`);
    expect(res.status).toBe(200);
    const names = res.body.users.map((u: { username: string }) => u.username);
    expect(names[0]).toBe(contact.username);
    expect(names).toContain(stranger.username);
    expect(names).not.toContain(me.username);
    expect(names).not.toContain(other.username);
    expect(res.body.users[0].avatar).toBe(`/avatars/${contact.username}.svg`);
    for (const q of ['', '.*', '[', 'a'.repeat(30)]) {
      const none = await me.agent.get(`/api/users/suggest?q=${encodeURIComponent(q)}`);
      expect(none.body).toEqual({ ok: true, users: [] });
    }
  });
});
