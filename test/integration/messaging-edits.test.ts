// Editing and deleting one's own messages over real sockets on real sessions: every tab
// of both members hears `msgupdate` (on one process and across two), history and the
// inbox preview show the change after a reconnect, and no one but the author changes anything.
import { describe, expect, it } from 'vitest';
import { MessageModel } from '../../src/messaging/models.ts';
import type { EditAck, MessageView } from '../../src/realtime/events.ts';
import { useTwoProcesses } from '../support/app-process.ts';
import { sendTo, useTestServer } from '../support/messaging.ts';
import { connectAs, emitAck, nextEvent, type ClientSocket } from '../support/sockets.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const server = useTestServer({ LOG_LEVEL: 'silent', MESSAGE_EDIT_WINDOW_MS: '60000' });

const edit = (socket: ClientSocket, message_id: string, content: string) => emitAck<EditAck>(socket, 'editmsg', { message_id, content });
const remove = (socket: ClientSocket, message_id: string) => emitAck<EditAck>(socket, 'deletemsg', { message_id });
const about = (id: string) => (payload: { message: MessageView }) => payload.message._id === id;

async function history(viewer: SignedInUser, other: SignedInUser): Promise<MessageView[]> {
  const res = await viewer.agent.get(`/messages/${encodeURIComponent(other.username)}/history`);
  expect(res.status).toBe(200);
  return res.body.messages as MessageView[];
}

async function inbox(viewer: SignedInUser) {
  return (await viewer.agent.get('/api/inbox')).body as { total: number; conversations: { user: { _id: string }; unread: number; last: { preview: string; deleted?: boolean; seq: number } }[] };
}

describe('edit and delete', () => {
  it('an edit reaches every tab of both members, and history and the preview show it', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTabs = await Promise.all([connectAs(server.current.url, alice), connectAs(server.current.url, alice)]);
    const bobTabs = await Promise.all([connectAs(server.current.url, bob), connectAs(server.current.url, bob)]);
    const sent = await sendTo(aliceTabs[0]!, bob, 'helo');

    const heard = [...aliceTabs, ...bobTabs].map((tab) => nextEvent(tab, 'msgupdate', about(sent.message._id)));
    const ack = await edit(aliceTabs[0]!, sent.message._id, 'hello');
    expect(ack).toMatchObject({ ok: true, message: { _id: sent.message._id, content: 'hello', seq: sent.message.seq } });
    for (const payload of await Promise.all(heard)) {
      expect(payload.message).toMatchObject({ _id: sent.message._id, content: 'hello', editedAt: expect.any(String) });
      expect(payload.message.deleted).toBeUndefined();
    }
    expect((await history(bob, alice)).map((m) => [m.content, typeof m.editedAt])).toEqual([['hello', 'string']]);
    const bobInbox = await inbox(bob);
    expect(bobInbox.conversations[0]).toMatchObject({ user: { _id: alice.id }, unread: 1, last: { preview: 'hello' } });
    expect(bobInbox.total).toBe(1);
  });

  it('a deletion leaves "deleted" in place, sends the text to no one, and keeps counts right', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    const bobTab = await connectAs(server.current.url, bob);
    const first = await sendTo(aliceTab, bob, 'keep this');
    const second = await sendTo(aliceTab, bob, 'oops, secret');

    const heard = nextEvent(bobTab, 'msgupdate', about(second.message._id));
    expect(await remove(aliceTab, second.message._id)).toMatchObject({ ok: true, message: { _id: second.message._id, deleted: true, content: '' } });
    expect((await heard).message).toMatchObject({ deleted: true, content: '' });

    const seen = await history(bob, alice);
    expect(seen.map((m) => [m._id, m.content, m.deleted ?? false])).toEqual([
      [first.message._id, 'keep this', false],
      [second.message._id, '', true],
    ]);
    expect(JSON.stringify(seen)).not.toContain('secret');
    const stored = await MessageModel.findById(second.message._id).lean();
    expect(stored?.content).toBe('');
    const bobInbox = await inbox(bob);
    expect(bobInbox.conversations[0]?.last).toMatchObject({ deleted: true, preview: '' });
    expect(JSON.stringify(bobInbox)).not.toContain('secret');
    // The deleted line stays where it was, counted until read.
    expect(bobInbox.total).toBe(2);
    // Deleted is final: no edit brings it back, and a second deletion is refused.
    expect(await edit(aliceTab, second.message._id, 'back again')).toMatchObject({ ok: false, code: 'notFound' });
    expect(await remove(aliceTab, second.message._id)).toMatchObject({ ok: false, code: 'notFound' });
  });

  it('editing an older message leaves the preview of the newest one', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    const first = await sendTo(aliceTab, bob, 'first');
    await sendTo(aliceTab, bob, 'second');
    expect(await edit(aliceTab, first.message._id, 'first, fixed')).toMatchObject({ ok: true });
    expect((await inbox(bob)).conversations[0]?.last.preview).toBe('second');
    expect((await history(bob, alice)).map((m) => m.content)).toEqual(['first, fixed', 'second']);
  });

  it('refuses someone else’s message and changes nothing', async () => {
    const [alice, bob, mallory] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    const bobTab = await connectAs(server.current.url, bob);
    const malloryTab = await connectAs(server.current.url, mallory);
    const sent = await sendTo(aliceTab, bob, 'original');
    const before = await MessageModel.findById(sent.message._id).lean();

    for (const tab of [bobTab, malloryTab]) {
      expect(await edit(tab, sent.message._id, 'forged')).toMatchObject({ ok: false, code: 'forbidden', error: 'You can only change your own messages.' });
      expect(await remove(tab, sent.message._id)).toMatchObject({ ok: false, code: 'forbidden' });
    }
    // A payload naming another author changes nothing either: the session decides.
    expect(await emitAck<EditAck>(malloryTab, 'editmsg', { message_id: sent.message._id, content: 'x', from_user: alice.id })).toMatchObject({ ok: false });
    expect(await MessageModel.findById(sent.message._id).lean()).toEqual(before);
    expect((await history(bob, alice)).map((m) => [m.content, m.editedAt, m.deleted])).toEqual([['original', undefined, undefined]]);
  });

  it('answers malformed input clearly, with the same limits as sending', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    const sent = await sendTo(aliceTab, bob, 'hi');
    for (const bad of [null, 'x', [], {}, { message_id: 'abc', content: 'x' }, { message_id: ['a'], content: 'x' }, { message_id: sent.message._id, content: 5 }, { message_id: sent.message._id, content: '   ' }, { message_id: sent.message._id, content: 'x'.repeat(2001) }]) {
      expect(await emitAck<EditAck>(aliceTab, 'editmsg', bad)).toMatchObject({ ok: false, code: 'invalid', error: expect.any(String) });
    }
    expect(await remove(aliceTab, 'f'.repeat(24))).toMatchObject({ ok: false, code: 'notFound' });
    expect((await history(bob, alice)).map((m) => m.content)).toEqual(['hi']);
    // User text stays text: stored and sent as given, escaped where rendered.
    expect(await edit(aliceTab, sent.message._id, '<img src=x onerror=alert(1)>')).toMatchObject({ ok: true, message: { content: '<img src=x onerror=alert(1)>' } });
    const page = await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}`);
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.text).not.toContain('<img src=x onerror');
  });

  it('refuses an edit after the edit window (deletion still allowed)', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    const sent = await sendTo(aliceTab, bob, 'old news');
    await MessageModel.updateOne({ _id: sent.message._id }, { $set: { createdAt: new Date(Date.now() - 120_000) } });
    expect(await edit(aliceTab, sent.message._id, 'rewritten')).toMatchObject({ ok: false, code: 'tooLate', error: 'Messages can be edited only within 1 minutes of sending.' });
    expect(await remove(aliceTab, sent.message._id)).toMatchObject({ ok: true });
  });
});

describe('edit and delete without JavaScript', () => {
  it('the conversation page’s own forms edit and delete, and show "edited" and "message deleted"', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    const sent = await sendTo(aliceTab, bob, 'by form');
    const path = `/messages/${encodeURIComponent(bob.username)}`;
    const page = await alice.agent.get(path);
    expect(page.text).toContain(`action="/messages/m/${sent.message._id}/edit"`);
    // Bob's view of the same message carries no tools of Alice's.
    expect((await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}`)).text).not.toContain(`/messages/m/${sent.message._id}/edit"`);

    const forged = await bob.agent.post(`/messages/m/${sent.message._id}/edit`).type('form').send({ _csrf: await csrfToken(bob.agent, '/messages'), content: 'forged' });
    expect(forged.status).toBe(403);
    const noToken = await alice.agent.post(`/messages/m/${sent.message._id}/edit`).type('form').send({ content: 'no token' });
    expect(noToken.status).toBe(403);

    const edited = await alice.agent.post(`/messages/m/${sent.message._id}/edit`).type('form').send({ _csrf: await csrfToken(alice.agent, path), content: 'by form, fixed' });
    expect(edited.status).toBe(303);
    expect(edited.headers.location).toBe(path);
    const after = await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}`);
    expect(after.text).toContain('by form, fixed');
    expect(after.text).toMatch(/data-message-edited>edited</);

    const deleted = await alice.agent.post(`/messages/m/${sent.message._id}/delete`).type('form').send({ _csrf: await csrfToken(alice.agent, path) });
    expect(deleted.status).toBe(303);
    const gone = await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}`).set('Cookie', 'parley.lang=zh-CN');
    expect(gone.text).toContain('消息已删除');
    expect(gone.text).not.toContain('by form');
  });
});

describe('edit and delete across two processes', () => {
  const processes = useTwoProcesses('edits', { SESSION_SECRET: 'edits-test-secret-0123456789abcdef', REGISTER_RATE: '10000/1m' }, () => server.current.config.mongodbUri!);

  it('reaches the other member on the other process, and a reconnect catches up on it', async () => {
    const [one, two] = [processes.a, processes.b];
    const [alice, bob] = await Promise.all([registerUser(one.url), registerUser(two.url)]);
    const aliceTab = await connectAs(one.url, alice);
    const bobTab = await connectAs(two.url, bob);
    const sent = await sendTo(aliceTab, bob, 'tpyo');
    const heard = nextEvent(bobTab, 'msgupdate', about(sent.message._id));
    expect(await edit(aliceTab, sent.message._id, 'typo')).toMatchObject({ ok: true });
    expect((await heard).message).toMatchObject({ content: 'typo', editedAt: expect.any(String) });

    // Bob is away while Alice deletes it; back, his history (read on the other process) says so.
    bobTab.disconnect();
    expect(await remove(aliceTab, sent.message._id)).toMatchObject({ ok: true });
    const viaTwo = async () => (await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}/history`)).body.messages as MessageView[];
    await expect.poll(async () => (await viaTwo()).map((m) => [m.content, m.deleted])).toEqual([['', true]]);
    const inboxTwo = async () => ((await bob.agent.get(`/api/inbox`)).body as { conversations: { last: { deleted?: boolean } }[] }).conversations[0]?.last.deleted;
    await expect.poll(inboxTwo).toBe(true);
  });
});
