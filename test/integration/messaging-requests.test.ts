// Message requests: a first message from a stranger waits under Requests, counted apart
// from the unread badge; accept, reply, ignore and block each move it where it belongs,
// and a member who turns requests off gets first messages with the others.
import { describe, expect, it } from 'vitest';
import { sendTo, useTestServer } from '../support/messaging.ts';
import { connectAs, nextEvent } from '../support/sockets.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const server = useTestServer({ LOG_LEVEL: 'silent', MESSAGE_REQUESTS: 'on' });

interface Inbox {
  total: number;
  requestsOn: boolean;
  conversations: { user: { username: string }; unread: number }[];
  requests: { user: { username: string }; unread: number }[];
}

async function inbox(user: SignedInUser): Promise<Inbox> {
  return (await user.agent.get('/api/inbox')).body as Inbox;
}

const names = (list: { user: { username: string } }[]) => list.map((c) => c.user.username);

async function post(user: SignedInUser, path: string, fields: Record<string, string> = {}) {
  return user.agent.post(path).type('form').send({ _csrf: await csrfToken(user.agent, '/messages'), ...fields });
}

async function strangers() {
  const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
  const aliceTab = await connectAs(server.current.url, alice);
  const bobTab = await connectAs(server.current.url, bob);
  return { alice, bob, aliceTab, bobTab };
}

describe('message requests', () => {
  it('a stranger’s first message waits under Requests, outside the badge; the sender sees a normal conversation', async () => {
    const { alice, bob, aliceTab, bobTab } = await strangers();
    const unread = nextEvent(bobTab, 'unread');
    await sendTo(aliceTab, bob, 'Hi, we have not met');
    expect(await unread).toMatchObject({ total: 0, count: 1 });

    const bobs = await inbox(bob);
    expect(names(bobs.requests)).toEqual([alice.username]);
    expect(bobs.requests[0]!.unread).toBe(1);
    expect(bobs.conversations).toEqual([]);
    expect(bobs.total).toBe(0);
    const page = await bob.agent.get('/messages');
    expect(page.text).toContain(`data-requests-count="1"`);
    expect(page.text).toContain(`action="/messages/requests/${alice.username}/accept"`);
    expect(page.text).not.toMatch(/data-unread-total[^>]*data-unread=/);

    const alices = await inbox(alice);
    expect(names(alices.conversations)).toEqual([bob.username]);
    expect(alices.requests).toEqual([]);
  });

  it('accepting moves it to the conversations and its unread messages to the badge', async () => {
    const { alice, bob, aliceTab } = await strangers();
    await sendTo(aliceTab, bob, 'one');
    await sendTo(aliceTab, bob, 'two');
    // No request from that name: back to the list, nothing changed.
    const none = await post(bob, `/messages/requests/${bob.username}/accept`);
    expect([none.status, none.headers.location]).toEqual([303, '/messages']);
    const res = await post(bob, `/messages/requests/${alice.username}/accept`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/messages/${alice.username}`);
    const bobs = await inbox(bob);
    expect(bobs.requests).toEqual([]);
    expect(names(bobs.conversations)).toEqual([alice.username]);
    expect(bobs.total).toBe(2);
    // Later messages stay in the conversation.
    await sendTo(aliceTab, bob, 'three');
    expect(names((await inbox(bob)).conversations)).toEqual([alice.username]);
  });

  it('replying accepts', async () => {
    const { alice, bob, aliceTab, bobTab } = await strangers();
    await sendTo(aliceTab, bob, 'hello?');
    await sendTo(bobTab, alice, 'hello!');
    const bobs = await inbox(bob);
    expect(bobs.requests).toEqual([]);
    expect(names(bobs.conversations)).toEqual([alice.username]);
  });

  it('ignore and block take it off the page; neither tells the sender', async () => {
    const carol = await registerUser(server.current.url);
    const { alice, bob, aliceTab } = await strangers();
    await sendTo(aliceTab, bob, 'buy my stuff');
    const carolTab = await connectAs(server.current.url, carol);
    await sendTo(carolTab, bob, 'spam spam');
    expect((await post(bob, `/messages/requests/${alice.username}/ignore`)).status).toBe(303);
    const blocked = await post(bob, `/users/${carol.username}/block`, { back: 'messages' });
    expect(blocked.status).toBe(303);
    expect(blocked.headers.location).toBe('/messages');
    const bobs = await inbox(bob);
    expect(bobs.requests).toEqual([]);
    expect(bobs.conversations).toEqual([]);
    expect(bobs.total).toBe(0);
    expect(names((await inbox(alice)).conversations)).toEqual([bob.username]);
  });

  it('a member can turn requests off (and on again), by a CSRF-protected form', async () => {
    const { alice, bob, aliceTab } = await strangers();
    await sendTo(aliceTab, bob, 'first contact');
    expect((await bob.agent.post('/messages/requests/settings').type('form').send({})).status).toBe(403);
    expect((await post(bob, '/messages/requests/settings', { requests: 'maybe' })).status).toBe(400);

    expect((await post(bob, '/messages/requests/settings')).status).toBe(303);
    let bobs = await inbox(bob);
    expect(bobs).toMatchObject({ requestsOn: false, requests: [], total: 1 });
    expect(names(bobs.conversations)).toEqual([alice.username]);
    const page = await bob.agent.get('/messages').set('Cookie', 'parley.lang=zh-CN');
    expect(page.text).toContain('将从未交谈过的成员发来的第一条消息放入“消息请求”');
    expect(page.text).not.toMatch(/id="requests-on"[^>]*checked/);

    expect((await post(bob, '/messages/requests/settings', { requests: 'on' })).status).toBe(303);
    bobs = await inbox(bob);
    expect(bobs).toMatchObject({ requestsOn: true, total: 0 });
    expect(names(bobs.requests)).toEqual([alice.username]);
  });
});
