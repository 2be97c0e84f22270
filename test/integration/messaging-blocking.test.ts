// Blocking, through the real forms on the profile and the conversation page: a blocked
// sender is refused with a neutral error and nothing is stored or delivered; unblocking
// restores messaging.
import mongoose from 'mongoose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserModel } from '../../src/accounts/user-model.ts';
import { setBlocked } from '../../src/messaging/blocking.ts';
import { MessageModel } from '../../src/messaging/models.ts';
import { accepted, sendRaw, useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { collect, connectAs, emitAck } from '../support/sockets.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

const NEUTRAL = "You can't send messages to this member.";

/** Presses the block or unblock button found on `page`, as the browser would submit it. */
async function press(user: SignedInUser, page: string, action: 'block' | 'unblock') {
  const html = (await user.agent.get(page)).text;
  const form = new RegExp(`<form[^>]*action="(/users/[^"]+/${action})"[^>]*data-block-form[\\s\\S]*?name="_csrf" value="([^"]+)"[\\s\\S]*?name="back" value="([^"]+)"`).exec(html);
  if (!form) throw new Error(`no ${action} form on ${page}`);
  const [, action_, _csrf, back] = form;
  return user.agent.post(action_!).type('form').send({ _csrf, back });
}

/** Presses the button and follows the redirect back to `page`, as the browser does; returns that page. */
async function pressAndReturn(user: SignedInUser, page: string, action: 'block' | 'unblock'): Promise<string> {
  const res = await press(user, page, action);
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe(page);
  return (await user.agent.get(page)).text;
}

async function blockedList(user: SignedInUser): Promise<string[]> {
  return (await UserModel.findById(user.id).lean())?.blocked ?? [];
}

describe('blocking', () => {
  it('from the profile: the blocked sender is refused neutrally, nothing is stored or delivered, and unblocking restores messaging', async () => {
    const [ivy, hal] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const profile = await pressAndReturn(ivy, `/users/${hal.username}`, 'block');
    expect(profile).toContain('Member blocked. They can no longer send you messages.');
    expect(profile).toMatch(/action="\/users\/[^"]+\/unblock" data-block-form data-blocked/);

    const ivySocket = await connectAs(server.url, ivy);
    const received = collect(ivySocket, 'sendback');
    const halSocket = await connectAs(server.url, hal);
    const before = await MessageModel.countDocuments({ from: hal.id });
    for (const to of [{ to_user: ivy.id }, { to_username: ivy.username }]) {
      expect(await sendRaw(halSocket, { ...to, content: 'let me in' })).toEqual({ ok: false, code: 'blocked', error: NEUTRAL });
    }
    // The form without JavaScript says the same, and nothing more.
    const token = await csrfToken(hal.agent, `/messages/${ivy.username}`);
    const byForm = await hal.agent.post(`/messages/${ivy.username}`).type('form').send({ _csrf: token, content: 'by form' });
    expect(byForm.status).toBe(403);
    expect(byForm.text).toContain(NEUTRAL.replace("'", '&#39;'));
    expect(await MessageModel.countDocuments({ from: hal.id })).toBe(before);
    // The member who blocked stays offline to the one blocked, though connected.
    const history = await hal.agent.get(`/messages/${ivy.username}/history`);
    expect(history.body.user.online).toBe(false);
    expect(await emitAck(ivySocket, 'adduser', ivy.id)).toBe(true);
    expect(received).toEqual([]);
    const inbox = await ivy.agent.get('/api/inbox');
    expect(inbox.body.total).toBe(0);

    await pressAndReturn(ivy, `/users/${hal.username}`, 'unblock');
    expect(await blockedList(ivy)).toEqual([]);
    const ack = accepted(await sendRaw(halSocket, { to_user: ivy.id, content: 'thank you' }));
    expect(ack.online).toBe(true);
    expect(await emitAck(ivySocket, 'adduser', ivy.id)).toBe(true);
    expect(received.map((p) => p.message._id)).toEqual([ack.message._id]);
  });

  it('from the conversation page: returns there, says who is blocked, and offers to unblock', async () => {
    const [ana, ben] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const conversation = `/messages/${ben.username}`;
    expect(await pressAndReturn(ana, conversation, 'block')).toContain(`You have blocked ${ben.username}: they cannot send you messages.`);
    expect(await pressAndReturn(ana, conversation, 'unblock')).not.toContain('data-blocked-notice');
  });

  it('is idempotent: blocking twice lists the member once, unblocking twice is harmless', async () => {
    const [cat, dan] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const _csrf = await csrfToken(cat.agent, `/users/${dan.username}`);
    for (let i = 0; i < 2; i++) expect((await cat.agent.post(`/users/${dan.username}/block`).type('form').send({ _csrf })).status).toBe(303);
    expect(await blockedList(cat)).toEqual([dan.id]);
    for (let i = 0; i < 2; i++) expect((await cat.agent.post(`/users/${dan.username}/unblock`).type('form').send({ _csrf })).status).toBe(303);
    expect(await blockedList(cat)).toEqual([]);
  });

  it('keeps every block when many arrive at once, alongside other writes to the same member', async () => {
    const eve = await registerUser(server.url);
    const others = await Promise.all(Array.from({ length: 12 }, () => registerUser(server.url)));
    const _csrf = await csrfToken(eve.agent, `/users/${others[0]!.username}`);
    const responses = await Promise.all([
      ...others.map((o) => eve.agent.post(`/users/${o.username}/block`).type('form').send({ _csrf })),
      ...[1, 2, 3].map((n) => eve.agent.post('/posts').type('form').send({ title: `Post ${n} while blocking`, body: 'Some text.', _csrf })),
    ]);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 303));
    const doc = await UserModel.findById(eve.id).lean();
    expect([...(doc?.blocked ?? [])].sort()).toEqual(others.map((o) => o.id).sort());
    expect(doc?.postCount).toBe(3);
  });

  // FerretDB applies an update as read, change, write back: without one queue per user
  // document, about a quarter of these were lost.
  it('keeps every change when blocks and unblocks of one member race each other', async () => {
    const joe = await registerUser(server.url);
    const ids = Array.from({ length: 40 }, () => new mongoose.Types.ObjectId().toString());
    await Promise.all(ids.slice(0, 20).map((id) => setBlocked(joe.id, id, true)));
    await Promise.all([...ids.slice(0, 10).map((id) => setBlocked(joe.id, id, false)), ...ids.slice(20).map((id) => setBlocked(joe.id, id, true))]);
    expect([...(await blockedList(joe))].sort()).toEqual(ids.slice(10).sort());
  });

  it('refuses a block without a valid CSRF token, of oneself, of nobody, and by a visitor', async () => {
    const [fay, gus] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    expect((await fay.agent.post(`/users/${gus.username}/block`).type('form').send({})).status).toBe(403);
    expect((await fay.agent.post(`/users/${gus.username}/block`).type('form').send({ _csrf: 'forged' })).status).toBe(403);
    const _csrf = await csrfToken(fay.agent, `/users/${gus.username}`);
    const self = await fay.agent.post(`/users/${fay.username}/block`).type('form').send({ _csrf });
    expect(self.status).toBe(400);
    expect(self.text).toContain('You cannot block yourself.');
    expect((await fay.agent.post('/users/nobody-here/block').type('form').send({ _csrf })).status).toBe(404);
    expect(await blockedList(fay)).toEqual([]);
    const visitor = request.agent(server.url);
    const token = await csrfToken(visitor, '/login');
    const anonymous = await visitor.post(`/users/${gus.username}/block`).type('form').send({ _csrf: token });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/login/);
  });

  it('offers the buttons in Chinese, and none to visitors or on one\u2019s own profile', async () => {
    const [han, ida] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const zh = await han.agent.get(`/users/${ida.username}`).set('Accept-Language', 'zh-CN');
    expect(zh.text).toMatch(/data-block-form[\s\S]*?>屏蔽<\/button>/);
    expect((await han.agent.get(`/users/${han.username}`)).text).not.toContain('data-block-form');
    expect((await request(server.url).get(`/users/${ida.username}`)).text).not.toContain('data-block-form');
  });

  it("hides the blocker's presence on the blocked member's messages page, and shows it again after unblocking", async () => {
    const [kit, lev] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const kitSocket = await connectAs(server.url, kit);
    expect(await emitAck(kitSocket, 'adduser', kit.id)).toBe(true);
    const levSocket = await connectAs(server.url, lev);
    accepted(await sendRaw(levSocket, { to_user: kit.id, content: 'hello kit' }));
    const kitRow = async () => {
      const html = (await lev.agent.get('/messages')).text;
      return new RegExp(`<li[^>]*data-user-id="${kit.id}"[\\s\\S]*?</li>`).exec(html)?.[0] ?? '';
    };
    expect(await kitRow()).toMatch(/data-online-dot data-online/);

    await pressAndReturn(kit, `/users/${lev.username}`, 'block');
    const hidden = await kitRow();
    expect(hidden).toContain('data-online-dot');
    expect(hidden).not.toMatch(/data-online-dot data-online/);

    await pressAndReturn(kit, `/users/${lev.username}`, 'unblock');
    expect(await kitRow()).toMatch(/data-online-dot data-online/);
  });
});
