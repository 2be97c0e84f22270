// The Socket.IO protocol of the contract, over real sessions against the real database.
import { beforeAll, describe, expect, it } from 'vitest';
import { UserModel } from '../../src/accounts/user-model.ts';
import { MessageModel } from '../../src/messaging/models.ts';
import { messageId } from '../../src/messaging/service.ts';
import { accepted as okAck, sendRaw as send, useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { collect, connectAs, connectError, emitAck, emitRaw, nextEvent } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
let alice: SignedInUser;
let bob: SignedInUser;

beforeAll(async () => {
  server = running.current;
  [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
});

describe('the handshake', () => {
  it('refuses a socket without a signed-in session, saying why', async () => {
    const socket = await connectAs(server.url, null, { wait: false });
    const err = await connectError(socket);
    expect(err.message).toBe('unauthorized');
    expect(err.data?.error).toBe('Please sign in to use messaging.');
    // Only signing in can help: the browser does not retry this one by itself.
    expect(err.data?.code).toBe('signIn');
  });

  it('refuses a session cookie that is not signed by the server', async () => {
    const socket = await connectAs(server.url, { cookie: 'parley.sid=s%3Aforged.c2lnbmF0dXJl' }, { wait: false });
    expect((await connectError(socket)).message).toBe('unauthorized');
  });

  it.each([['websocket' as const], ['polling' as const]])('refuses a cross-site Origin over %s', async (transport) => {
    const socket = await connectAs(server.url, alice, { origin: 'http://evil.example', transports: [transport], wait: false });
    const err = await connectError(socket);
    expect(err.message).toMatch(/error/i);
  });

  it('accepts the same origin as the page, and clients that send no Origin', async () => {
    const sameOrigin = await connectAs(server.url, alice, { origin: server.url });
    const noOrigin = await connectAs(server.url, alice);
    expect(sameOrigin.connected && noOrigin.connected).toBe(true);
  });
});

describe('answers in the member\u2019s language', () => {
  it('gives errors in Chinese to a socket whose browser asks for it', async () => {
    const socket = await connectAs(server.url, { cookie: `${alice.cookie}; parley.lang=zh-CN` });
    const ack = await send(socket, { to_user: bob.id, content: '   ' });
    expect(ack).toMatchObject({ ok: false, error: '请先写点内容。' });
  });

  it('refuses an anonymous socket in Chinese too', async () => {
    const socket = await connectAs(server.url, { cookie: 'parley.lang=zh-CN' }, { wait: false });
    expect((await connectError(socket)).data?.error).toBe('请先登录再使用私信。');
  });
});

describe('adduser and deleteuser', () => {
  it('acknowledges the user\u2019s own id with true', async () => {
    const socket = await connectAs(server.url, alice);
    expect(await emitAck(socket, 'adduser', alice.id)).toBe(true);
  });

  it('answers false to someone else\u2019s id and changes nothing: the impersonated user stays offline', async () => {
    const mallory = await registerUser(server.url);
    const carol = await registerUser(server.url);
    const socket = await connectAs(server.url, mallory);
    expect(await emitAck(socket, 'adduser', carol.id)).toBe(false);
    expect(await emitAck(socket, 'adduser', { $ne: null })).toBe(false);
    const sender = await connectAs(server.url, alice);
    const ack = okAck(await send(sender, { to_user: carol.id, content: 'are you there?' }));
    expect(ack.online).toBe(false);
  });

  it('deleteuser takes this socket off the online map, adduser puts it back', async () => {
    const dave = await registerUser(server.url);
    const daveSocket = await connectAs(server.url, dave);
    const sender = await connectAs(server.url, alice);
    expect(okAck(await send(sender, { to_user: dave.id, content: 'one' })).online).toBe(true);
    expect(await emitAck(daveSocket, 'deleteuser', dave.id)).toBe(true);
    expect(okAck(await send(sender, { to_user: dave.id, content: 'two' })).online).toBe(false);
    expect(await emitAck(daveSocket, 'adduser', dave.id)).toBe(true);
    expect(okAck(await send(sender, { to_user: dave.id, content: 'three' })).online).toBe(true);
  });

  it('deleteuser with another id answers false and keeps the socket online', async () => {
    const erin = await registerUser(server.url);
    const erinSocket = await connectAs(server.url, erin);
    expect(await emitAck(erinSocket, 'deleteuser', alice.id)).toBe(false);
    const sender = await connectAs(server.url, alice);
    expect(okAck(await send(sender, { to_user: erin.id, content: 'still here?' })).online).toBe(true);
  });

  it('a user whose last socket disconnects is offline', async () => {
    const frank = await registerUser(server.url);
    const tab1 = await connectAs(server.url, frank);
    const tab2 = await connectAs(server.url, frank);
    const sender = await connectAs(server.url, alice);
    tab1.disconnect();
    expect(okAck(await send(sender, { to_user: frank.id, content: 'a' })).online).toBe(true);
    tab2.disconnect();
    await waitUntil(() => !server.realtime.presence.isOnline(frank.id));
    expect(okAck(await send(sender, { to_user: frank.id, content: 'b' })).online).toBe(false);
  });
});

/** Waits for a condition the server reaches asynchronously (a disconnect being processed). */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('privatemsg', () => {
  it('stores the message, acks it with online true, and delivers sendback with the sender as friend', async () => {
    const bobSocket = await connectAs(server.url, bob);
    const aliceSocket = await connectAs(server.url, alice);
    const arrived = nextEvent(bobSocket, 'sendback');
    const ack = okAck(await send(aliceSocket, { to_user: bob.id, content: '  hello bob  ' }));
    expect(ack.online).toBe(true);
    expect(ack.message).toMatchObject({ from: alice.id, to: bob.id, content: 'hello bob' });
    expect(ack.message._id).toMatch(/^[0-9a-f]{24}$/);
    expect(new Date(ack.message.createdAt).toISOString()).toBe(ack.message.createdAt);
    expect(ack.friend).toMatchObject({ _id: bob.id, username: bob.username });

    const delivered = await arrived;
    expect(delivered.content).toBe('hello bob');
    expect(delivered.friend).toEqual({ _id: alice.id, username: alice.username, avatar: expect.stringContaining(encodeURIComponent(alice.username)) });
    expect(delivered.message).toEqual(ack.message);

    const stored = await MessageModel.findById(ack.message._id).lean();
    expect(stored).toMatchObject({ from: alice.id, to: bob.id, content: 'hello bob' });
  });

  it('finds the recipient by to_username, in any letter case', async () => {
    const bobSocket = await connectAs(server.url, bob);
    const aliceSocket = await connectAs(server.url, alice);
    const arrived = nextEvent(bobSocket, 'sendback', (p) => p.content === 'by name');
    const ack = okAck(await send(aliceSocket, { to_username: bob.username.toUpperCase(), content: 'by name' }));
    expect(ack.message.to).toBe(bob.id);
    expect((await arrived).message._id).toBe(ack.message._id);
  });

  it('delivers to every tab of the recipient and the sender\u2019s other tabs, but not back to the sending tab', async () => {
    const [bob1, bob2, bob3] = await Promise.all([connectAs(server.url, bob), connectAs(server.url, bob), connectAs(server.url, bob)]);
    const [aliceSending, aliceOther] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, alice)]);
    const echoed = collect(aliceSending, 'sendback');
    const waits = [bob1, bob2, bob3].map((s) => nextEvent(s, 'sendback', (p) => p.content === 'to all tabs'));
    const otherTab = nextEvent(aliceOther, 'sendback', (p) => p.content === 'to all tabs');
    const ack = okAck(await send(aliceSending, { to_user: bob.id, content: 'to all tabs' }));
    const received = await Promise.all(waits);
    for (const payload of received) expect(payload.message._id).toBe(ack.message._id);
    // The sender's other tab sees the conversation from the sender's side: friend is bob.
    expect((await otherTab).friend).toMatchObject({ _id: bob.id, username: bob.username });
    // Round trip through the server once more, so an echo would have arrived by now.
    expect(await emitAck(aliceSending, 'adduser', alice.id)).toBe(true);
    expect(echoed).toEqual([]);
  });

  it('ignores a forged from_user: the session decides the sender', async () => {
    const mallory = await registerUser(server.url);
    const bobSocket = await connectAs(server.url, bob);
    const mallorySocket = await connectAs(server.url, mallory);
    const arrived = nextEvent(bobSocket, 'sendback', (p) => p.content === 'it is me, alice');
    const ack = okAck(await send(mallorySocket, { from_user: alice.id, to_user: bob.id, content: 'it is me, alice' }));
    expect(ack.message.from).toBe(mallory.id);
    expect((await arrived).friend._id).toBe(mallory.id);
    expect((await MessageModel.findById(ack.message._id).lean())?.from).toBe(mallory.id);
  });

  it('stores a message for an offline member, who finds it in the history later', async () => {
    const gina = await registerUser(server.url);
    const aliceSocket = await connectAs(server.url, alice);
    const ack = okAck(await send(aliceSocket, { to_user: gina.id, content: 'for when you are back' }));
    expect(ack.online).toBe(false);
    const history = await gina.agent.get(`/messages/${encodeURIComponent(alice.username)}/history`).set('Accept', 'application/json');
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m: { _id: string }) => m._id)).toEqual([ack.message._id]);
    expect(history.body.messages[0]).toMatchObject({ from: alice.id, content: 'for when you are back' });
  });

  it('refuses messages to oneself, by id and by name', async () => {
    const socket = await connectAs(server.url, alice);
    for (const payload of [{ to_user: alice.id }, { to_username: alice.username.toUpperCase() }]) {
      const ack = await send(socket, { ...payload, content: 'note to self' });
      expect(ack).toMatchObject({ ok: false, code: 'self', error: 'You cannot send a message to yourself.' });
    }
  });

  it('refuses an unknown recipient, by id and by name, and stores nothing', async () => {
    const socket = await connectAs(server.url, alice);
    const before = await MessageModel.countDocuments();
    for (const payload of [{ to_user: 'aaaaaaaaaaaaaaaaaaaaaaaa' }, { to_username: 'nobody-by-this-name' }]) {
      const ack = await send(socket, { ...payload, content: 'anyone?' });
      expect(ack).toMatchObject({ ok: false, code: 'notFound', error: 'There is no member with that username.', field: 'to' });
    }
    expect(await MessageModel.countDocuments()).toBe(before);
  });

  it('refuses a sender the recipient has blocked, storing and delivering nothing', async () => {
    const [hal, ivy] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    await UserModel.updateOne({ _id: ivy.id }, { $push: { blocked: hal.id } });
    const ivySocket = await connectAs(server.url, ivy);
    const received = collect(ivySocket, 'sendback');
    const halSocket = await connectAs(server.url, hal);
    const ack = await send(halSocket, { to_user: ivy.id, content: 'let me in' });
    expect(ack).toMatchObject({ ok: false, code: 'blocked', error: "You can't send messages to this member." });
    expect(await MessageModel.countDocuments({ from: hal.id })).toBe(0);
    expect(await emitAck(ivySocket, 'adduser', ivy.id)).toBe(true);
    expect(received).toEqual([]);
  });
});

describe('bad payloads', () => {
  const huge = 'x'.repeat(2001);
  const cases: [string, (ids: { bob: string }) => unknown, string][] = [
    ['null', () => null, 'The message must be an object with a recipient and content.'],
    ['a number', () => 42, 'The message must be an object with a recipient and content.'],
    ['a string', () => 'hello', 'The message must be an object with a recipient and content.'],
    ['an array', () => [1, 2, 3], 'The message must be an object with a recipient and content.'],
    ['an empty object', () => ({}), 'The message content must be text.'],
    ['no recipient', () => ({ content: 'hi' }), 'Please say who the message is for.'],
    ['content as a number', ({ bob }) => ({ to_user: bob, content: 12 }), 'The message content must be text.'],
    ['content as an operator', ({ bob }) => ({ to_user: bob, content: { $ne: null } }), 'The message content must be text.'],
    ['content as an array', ({ bob }) => ({ to_user: bob, content: ['a', 'b'] }), 'The message content must be text.'],
    ['empty content', ({ bob }) => ({ to_user: bob, content: '' }), 'Please write a message first.'],
    ['whitespace content', ({ bob }) => ({ to_user: bob, content: ' \n\t  ' }), 'Please write a message first.'],
    ['content over the limit', ({ bob }) => ({ to_user: bob, content: huge }), 'That message is too long (2000 characters at most).'],
    ['to_user as an operator', () => ({ to_user: { $ne: null }, content: 'hi' }), 'The recipient id must be a 24-character hexadecimal user id.'],
    ['to_user not an id', () => ({ to_user: 'bob', content: 'hi' }), 'The recipient id must be a 24-character hexadecimal user id.'],
    ['to_user as a number', () => ({ to_user: 123, content: 'hi' }), 'The recipient id must be a 24-character hexadecimal user id.'],
    ['to_username as an operator', () => ({ to_username: { $gt: '' }, content: 'hi' }), 'The recipient must be given as a username.'],
    ['to_username as a regex-like string', () => ({ to_username: '.*', content: 'hi' }), 'There is no member with that username.'],
    ['client_id as an object', ({ bob }) => ({ to_user: bob, content: 'hi', client_id: { $ne: 1 } }), 'client_id must be text of 1 to 128 characters.'],
    ['client_id too long', ({ bob }) => ({ to_user: bob, content: 'hi', client_id: 'c'.repeat(129) }), 'client_id must be text of 1 to 128 characters.'],
  ];

  it.each(cases)('answers %s with a clear error and stores nothing', async (_name, payload, error) => {
    const socket = await connectAs(server.url, alice);
    const before = await MessageModel.countDocuments();
    const ack = await send(socket, payload({ bob: bob.id }));
    expect(ack).toMatchObject({ ok: false, error });
    expect(await MessageModel.countDocuments()).toBe(before);
  });

  it('survives sends with no callback, or a callback in place of the payload', async () => {
    const socket = await connectAs(server.url, alice);
    const before = await MessageModel.countDocuments();
    emitRaw(socket, 'privatemsg', null);
    emitRaw(socket, 'privatemsg', { to_user: { $ne: null }, content: 'x' });
    emitRaw(socket, 'privatemsg');
    emitRaw(socket, 'markread', 7);
    emitRaw(socket, 'adduser');
    emitRaw(socket, 'deleteuser', { $ne: null });
    emitRaw(socket, 'no-such-event', 'x');
    const onlyCallback = await new Promise<unknown>((resolve) => emitRaw(socket, 'privatemsg', resolve));
    expect(onlyCallback).toMatchObject({ ok: false, code: 'invalid' });
    // The server and this connection still work, and none of the above was stored.
    const ack = okAck(await send(socket, { to_user: bob.id, content: 'still alive' }));
    expect(await MessageModel.countDocuments()).toBe(before + 1);
    expect(ack.message.content).toBe('still alive');
  });

  it('disconnects a socket that sends more than the size cap, and keeps serving others', async () => {
    const socket = await connectAs(server.url, alice);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    emitRaw(socket, 'privatemsg', { to_user: bob.id, content: 'y'.repeat(server.config.limits.socketMaxBufferBytes + 10) });
    expect(await closed).toBe('transport close');
    const other = await connectAs(server.url, alice);
    okAck(await send(other, { to_user: bob.id, content: 'after the big one' }));
  });
});

describe('client_id', () => {
  it('makes a send idempotent: the same id twice stores one message and returns it both times', async () => {
    const bobSocket = await connectAs(server.url, bob);
    const received = collect(bobSocket, 'sendback');
    const socket = await connectAs(server.url, alice);
    const clientId = `retry-${Date.now()}`;
    const first = okAck(await send(socket, { to_user: bob.id, content: 'exactly once', client_id: clientId }));
    const second = okAck(await send(socket, { to_user: bob.id, content: 'exactly once', client_id: clientId }));
    expect(second.message).toEqual(first.message);
    expect(first.message._id).toBe(messageId(alice.id, clientId));
    expect(await MessageModel.countDocuments({ clientId })).toBe(1);
    const history = await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}/history`);
    expect(history.body.messages.filter((m: { clientId: string }) => m.clientId === clientId)).toHaveLength(1);
    expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);
    expect(received.filter((p) => p.message.clientId === clientId)).toHaveLength(1);
  });

  it('keeps client ids apart per sender', async () => {
    const aliceSocket = await connectAs(server.url, alice);
    const bobSocket = await connectAs(server.url, bob);
    const a = okAck(await send(aliceSocket, { to_user: bob.id, content: 'from alice', client_id: 'shared-id' }));
    const b = okAck(await send(bobSocket, { to_user: alice.id, content: 'from bob', client_id: 'shared-id' }));
    expect(a.message._id).not.toBe(b.message._id);
    expect(b.message.content).toBe('from bob');
  });

  it('stores every message of a burst sent at once, each with its own seq', async () => {
    const socket = await connectAs(server.url, alice);
    const jack = await registerUser(server.url);
    const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => send(socket, { to_user: jack.id, content: `burst ${i}` })));
    const seqs = acks.map((ack) => okAck(ack).message.seq);
    expect(new Set(seqs).size).toBe(30);
    const history = await jack.agent.get(`/messages/${encodeURIComponent(alice.username)}/history`);
    expect(history.body.messages).toHaveLength(30);
    expect(history.body.messages.map((m: { seq: number }) => m.seq)).toEqual([...seqs].sort((x, y) => x - y));
    const inbox = await jack.agent.get('/api/inbox');
    expect(inbox.body.total).toBe(30);
  });
});
