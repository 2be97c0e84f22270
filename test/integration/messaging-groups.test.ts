// Group conversations over real sockets on real sessions: starting one from the compose
// form with several names, messages to every member's tabs, unread counts and the badge,
// "seen by", typing, adding and leaving, blocking, and a reconnect's catch-up.
import { afterEach, describe, expect, it } from 'vitest';
import type { SendAck, TypingAck, TypingPayload } from '../../src/realtime/events.ts';
import { accepted, sendRaw, useTestServer } from '../support/messaging.ts';
import { closeAllSockets, collect, connectAs, emitAck, nextEvent, type ClientSocket } from '../support/sockets.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const server = useTestServer({ LOG_LEVEL: 'silent' });
afterEach(() => closeAllSockets());

const url = () => server.current.url;

/** Starts a group from the compose form on /messages, as a member without JavaScript would. */
async function startGroup(owner: SignedInUser, to: string, content = 'Hello, all'): Promise<{ status: number; conv?: string; text: string }> {
  const _csrf = await csrfToken(owner.agent, '/messages');
  const res = await owner.agent.post('/messages').type('form').send({ _csrf, to, content });
  const location = String(res.headers.location ?? '');
  const match = /^\/messages\/c\/(g[0-9a-f]{24})$/.exec(location);
  return { status: res.status, conv: match?.[1], text: res.text };
}

async function block(blocker: SignedInUser, other: SignedInUser): Promise<void> {
  const path = `/users/${encodeURIComponent(other.username)}`;
  const _csrf = await csrfToken(blocker.agent, path);
  expect((await blocker.agent.post(`${path}/block`).type('form').send({ _csrf })).status).toBe(303);
}

async function badge(user: SignedInUser): Promise<number> {
  const res = await user.agent.get('/api/inbox');
  return res.body.total as number;
}

const sendToGroup = (socket: ClientSocket, conv: string, content: string, clientId?: string) =>
  sendRaw(socket, { conversation: conv, content, ...(clientId ? { client_id: clientId } : {}) });

async function threeMembers() {
  const [alice, bob, carol] = await Promise.all([registerUser(url()), registerUser(url()), registerUser(url())]);
  const started = await startGroup(alice, `${bob.username}, ${carol.username}`);
  expect(started.status).toBe(303);
  return { alice, bob, carol, conv: started.conv! };
}

describe('group conversations', () => {
  it('start from the compose form with several names; every member sees the group, its first message and an unread count', async () => {
    const { alice, bob, carol, conv } = await threeMembers();
    const page = await alice.agent.get(`/messages/c/${conv}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Hello, all');
    for (const u of [alice, bob, carol]) expect(page.text).toContain(u.username);

    for (const member of [bob, carol]) {
      const inbox = await member.agent.get('/api/inbox');
      const row = inbox.body.groups.find((g: { group: { _id: string } }) => g.group._id === conv);
      expect(row.unread).toBe(1);
      expect(row.last.preview).toBe('Hello, all');
      expect(row.group.members.map((m: { username: string }) => m.username).sort()).toEqual([alice.username, bob.username, carol.username].sort());
      expect(inbox.body.total).toBe(1);
      const messages = await member.agent.get('/messages');
      expect(messages.text).toContain(`data-group-id="${conv}"`);
      expect(messages.text).toMatch(/data-unread="1"/);
    }
    // The sender has nothing unread.
    expect(await badge(alice)).toBe(0);
  });

  it('one name is still a pair conversation', async () => {
    const [alice, bob] = await Promise.all([registerUser(url()), registerUser(url())]);
    const started = await startGroup(alice, bob.username);
    expect(started.status).toBe(303);
    expect(started.conv).toBeUndefined();
  });

  it('delivers a message to every tab of every member with the conversation id, counts it unread, and clears it on read with receipts to all', async () => {
    const { alice, bob, carol, conv } = await threeMembers();
    const [aliceTab, aliceOther, bobTab, carolTab] = await Promise.all([connectAs(url(), alice), connectAs(url(), alice), connectAs(url(), bob), connectAs(url(), carol)]);
    const heard = [aliceOther, bobTab, carolTab].map((tab) => nextEvent(tab, 'sendback', (p) => p.message.content === 'Lunch?'));
    const bobUnread = nextEvent(bobTab, 'unread', (p) => p.conversation === conv && p.count === 2);
    const ack = accepted(await sendToGroup(aliceTab, conv, 'Lunch?'));
    expect(ack.message.conversation).toBe(conv);
    expect(ack.group?._id).toBe(conv);
    for (const payload of await Promise.all(heard)) {
      expect(payload.message).toMatchObject({ _id: ack.message._id, conversation: conv, from: alice.id, content: 'Lunch?' });
      expect(payload.group?.members).toHaveLength(3);
      expect(payload.friend._id).toBe(alice.id);
    }
    expect((await bobUnread).total).toBe(2);
    expect(await badge(bob)).toBe(2);

    // Bob reads: his count goes, Alice and Carol hear how far he read.
    const receipts = [aliceTab, carolTab].map((tab) => nextEvent(tab, 'read', (p) => p.conversation === conv && p.user === bob.id));
    const read = await emitAck<{ ok: boolean; total: number; count: number }>(bobTab, 'markread', { conversation: conv, upTo: ack.message.seq });
    expect(read).toMatchObject({ ok: true, total: 0, count: 0 });
    for (const r of await Promise.all(receipts)) expect(r.upTo).toBe(ack.message.seq);
    expect(await badge(bob)).toBe(0);
    expect(await badge(carol)).toBe(2);

    // "Seen by 1 of 2" under Alice's newest message, the name on hover or focus.
    const page = await alice.agent.get(`/messages/c/${conv}`);
    expect(page.text).toContain('Seen by 1 of 2');
    expect(page.text).toContain(`Seen by: ${bob.username}`);
  });

  it('a GET of the page marks nothing read (a prefetch sends no receipt); a forged upTo is held to the last message', async () => {
    const { alice, bob, conv } = await threeMembers();
    const aliceTab = await connectAs(url(), alice);
    const receipts = collect(aliceTab, 'read');
    expect((await bob.agent.get(`/messages/c/${conv}`)).status).toBe(200);
    expect(await badge(bob)).toBe(1);
    const bobTab = await connectAs(url(), bob);
    const receipt = nextEvent(aliceTab, 'read', (p) => p.conversation === conv && p.user === bob.id);
    await emitAck(bobTab, 'markread', { conversation: conv, upTo: 1_000_000 });
    expect((await receipt).upTo).toBe(1);
    expect(receipts).toHaveLength(1);
    expect((await alice.agent.get(`/messages/c/${conv}/history`)).body.readSeq[bob.id]).toBe(1);
  });

  it('a resend with the same client id is stored once and delivered once', async () => {
    const { alice, bob, conv } = await threeMembers();
    const [aliceTab, bobTab] = await Promise.all([connectAs(url(), alice), connectAs(url(), bob)]);
    const got = collect(bobTab, 'sendback');
    const first = accepted(await sendToGroup(aliceTab, conv, 'once', 'client-1'));
    const again = accepted(await sendToGroup(aliceTab, conv, 'once', 'client-1'));
    expect(again.message._id).toBe(first.message._id);
    const history = await bob.agent.get(`/messages/c/${conv}/history`);
    expect(history.body.messages.filter((m: { content: string }) => m.content === 'once')).toHaveLength(1);
    // A later message is delivered after any second copy would have been.
    const marker = nextEvent(bobTab, 'sendback', (p) => p.message.content === 'after');
    accepted(await sendToGroup(aliceTab, conv, 'after'));
    await marker;
    expect(got.filter((p) => p.message.content === 'once')).toHaveLength(1);
  });

  it('refuses a send, a read and the page to someone who is not a member, saying no more than that', async () => {
    const { conv } = await threeMembers();
    const mallory = await registerUser(url());
    const tab = await connectAs(url(), mallory);
    const refused = (await sendToGroup(tab, conv, 'let me in')) as Extract<SendAck, { ok: false }>;
    expect(refused).toMatchObject({ ok: false, code: 'notFound' });
    expect((await mallory.agent.get(`/messages/c/${conv}`)).status).toBe(404);
    expect((await mallory.agent.get(`/messages/c/${conv}/history`)).status).toBe(404);
    const read = await emitAck<{ ok: boolean; code?: string }>(tab, 'markread', { conversation: conv });
    expect(read).toMatchObject({ ok: false, code: 'notFound' });
    // Bad ids are refused as input, not looked up.
    expect(await sendToGroup(tab, 'g123', 'x')).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('adds a member later (nothing unread for them before), and a member who leaves stops getting messages', async () => {
    const { alice, bob, carol, conv } = await threeMembers();
    const dave = await registerUser(url());
    const path = `/messages/c/${conv}`;
    let _csrf = await csrfToken(bob.agent, path);
    expect((await bob.agent.post(`${path}/members`).type('form').send({ _csrf, to: dave.username })).status).toBe(303);
    expect(await badge(dave)).toBe(0);
    const daveTab = await connectAs(url(), dave);
    const carolTab = await connectAs(url(), carol);
    const aliceTab = await connectAs(url(), alice);
    const daveHears = nextEvent(daveTab, 'sendback', (p) => p.message.content === 'Welcome, Dave');
    accepted(await sendToGroup(aliceTab, conv, 'Welcome, Dave'));
    expect((await daveHears).group?.members).toHaveLength(4);
    expect(await badge(dave)).toBe(1);

    // Carol leaves: the group goes from her messages page, and she hears nothing more.
    _csrf = await csrfToken(carol.agent, path);
    const left = await carol.agent.post(`${path}/leave`).type('form').send({ _csrf });
    expect(left.status).toBe(303);
    expect(left.headers.location).toBe('/messages');
    const carolHeard = collect(carolTab, 'sendback');
    const daveNext = nextEvent(daveTab, 'sendback', (p) => p.message.content === 'After Carol');
    accepted(await sendToGroup(aliceTab, conv, 'After Carol'));
    await daveNext;
    expect(carolHeard).toHaveLength(0);
    expect((await carol.agent.get('/api/inbox')).body.groups).toHaveLength(0);
    expect(await badge(carol)).toBe(0);
    expect(await sendToGroup(carolTab, conv, 'still here?')).toMatchObject({ ok: false, code: 'notFound' });
  });

  it('refuses too few, too many, unknown names, and with the form keeps what was typed', async () => {
    const [alice, bob] = await Promise.all([registerUser(url()), registerUser(url())]);
    const unknown = await startGroup(alice, `${bob.username} nobody_${Date.now()}`, 'kept text');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('kept text');
    const tooFew = await startGroup(alice, `${bob.username}, ${alice.username}`);
    expect(tooFew.status).toBe(400);
    expect((await alice.agent.get('/api/inbox')).body.groups).toHaveLength(0);
  });

  it('blocking: a member who blocked you cannot be added by you; in a group you share, they neither get your messages nor hear you type', async () => {
    const { alice, bob, carol, conv } = await threeMembers();
    const erin = await registerUser(url());
    await block(erin, alice);
    // Alice cannot start a group with Erin, nor add her.
    const refused = await startGroup(alice, `${bob.username}, ${erin.username}`);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain(`${erin.username} cannot be added`);
    const path = `/messages/c/${conv}`;
    const _csrf = await csrfToken(alice.agent, path);
    expect((await alice.agent.post(`${path}/members`).type('form').send({ _csrf, to: erin.username })).status).toBe(403);
    // But Bob, whom Erin did not block, can.
    const bobCsrf = await csrfToken(bob.agent, path);
    expect((await bob.agent.post(`${path}/members`).type('form').send({ _csrf: bobCsrf, to: erin.username })).status).toBe(303);

    const [aliceTab, erinTab, carolTab] = await Promise.all([connectAs(url(), alice), connectAs(url(), erin), connectAs(url(), carol)]);
    const erinHeard = collect(erinTab, 'sendback');
    const erinTyping = collect(erinTab, 'typing');
    const carolTyping = nextEvent(carolTab, 'typing', (p: TypingPayload) => p.conversation === conv && p.user._id === alice.id);
    await expect(emitAck<TypingAck>(aliceTab, 'typing', { conversation: conv, typing: true })).resolves.toEqual({ ok: true });
    expect(await carolTyping).toMatchObject({ conversation: conv, typing: true, user: { _id: alice.id, username: alice.username } });
    const carolGets = nextEvent(carolTab, 'sendback', (p) => p.message.content === 'from Alice');
    accepted(await sendToGroup(aliceTab, conv, 'from Alice'));
    await carolGets;
    // Erin hears Bob, never Alice; on her page Alice's message is a placeholder without its words.
    const bobTab = await connectAs(url(), bob);
    const erinGetsBob = nextEvent(erinTab, 'sendback', (p) => p.message.content === 'from Bob');
    accepted(await sendToGroup(bobTab, conv, 'from Bob'));
    await erinGetsBob;
    expect(erinHeard.map((p) => p.message.content)).toEqual(['from Bob']);
    expect(erinTyping.filter((p) => p.user._id === alice.id)).toHaveLength(0);
    const erinPage = await erin.agent.get(path);
    expect(erinPage.text).not.toContain('from Alice');
    expect(erinPage.text).toContain('Message from a member you blocked');
    expect(erinPage.text).toContain('from Bob');
  });

  it('after a reconnect, the history API gives what arrived meanwhile', async () => {
    const { alice, bob, conv } = await threeMembers();
    const bobTab = await connectAs(url(), bob);
    const seen = await bob.agent.get(`/messages/c/${conv}/history`);
    const lastSeq = seen.body.latestSeq as number;
    bobTab.disconnect();
    const aliceTab = await connectAs(url(), alice);
    accepted(await sendToGroup(aliceTab, conv, 'while you were away'));
    const again = await connectAs(url(), bob);
    expect(again.connected).toBe(true);
    const caught = await bob.agent.get(`/messages/c/${conv}/history`).query({ after: lastSeq });
    expect(caught.body.messages.map((m: { content: string }) => m.content)).toEqual(['while you were away']);
    expect(await badge(bob)).toBe(2);
  });

  it('is in Chinese for a member who reads Chinese', async () => {
    const [alice, bob] = await Promise.all([registerUser(url()), registerUser(url())]);
    const _csrf = await csrfToken(alice.agent, '/messages');
    const res = await alice.agent.post('/messages').set('Accept-Language', 'zh-CN').type('form').send({ _csrf, to: `${bob.username} ${alice.username}`, content: '你好' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('群聊至少需要另外两个人');
  });
});

describe('edits in group conversations', () => {
  it('refuses to edit or delete a group message with a clear error, and changes nothing', async () => {
    const { alice, bob, conv } = await threeMembers();
    const aliceTab = await connectAs(url(), alice);
    const sent = accepted(await sendToGroup(aliceTab, conv, 'in the group'));
    const edited = await emitAck<{ ok: boolean; code?: string; error?: string }>(aliceTab, 'editmsg', { message_id: sent.message._id, content: 'rewritten-zq' });
    expect(edited).toMatchObject({ ok: false, code: 'forbidden', error: 'Messages in group conversations cannot be edited or deleted yet.' });
    const deleted = await emitAck<{ ok: boolean; code?: string }>(aliceTab, 'deletemsg', { message_id: sent.message._id });
    expect(deleted).toMatchObject({ ok: false, code: 'forbidden' });
    const page = await bob.agent.get(`/messages/c/${conv}`);
    expect(page.text).toContain('in the group');
    expect(page.text).not.toContain('rewritten-zq');
  });
});
