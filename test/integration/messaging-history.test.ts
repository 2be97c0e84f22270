// History in pages across page boundaries, and catching up after a dropped connection.
import { beforeAll, describe, expect, it } from 'vitest';
import type { MessageView } from '../../src/realtime/events.ts';
import { sendTo, useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { closeAllSockets, collect, connectAs, nextEvent, type ClientSocket } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
let alice: SignedInUser;
let bob: SignedInUser;
/** 120 messages, alternating senders, in the order they were acknowledged. */
const sent: MessageView[] = [];

const send = async (socket: ClientSocket, to: SignedInUser, content: string): Promise<MessageView> => (await sendTo(socket, to, content)).message;

beforeAll(async () => {
  server = running.current;
  [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
  const [aliceSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, bob)]);
  for (let i = 1; i <= 120; i++) {
    sent.push(await (i % 2 ? send(aliceSocket, bob, `message ${i}`) : send(bobSocket, alice, `message ${i}`)));
  }
  closeAllSockets();
});

const historyPath = (who: SignedInUser) => `/messages/${encodeURIComponent(who.username)}/history`;
const contents = (messages: MessageView[]) => messages.map((m) => m.content);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `message ${from + i}`);

describe('history', () => {
  it('pages back 50 at a time by cursor, across page boundaries, oldest first, each message once', async () => {
    const latest = (await bob.agent.get(historyPath(alice))).body;
    expect(contents(latest.messages)).toEqual(range(71, 120));
    expect(latest.hasOlder).toBe(true);
    expect(latest.latestSeq).toBe(sent.at(-1)!.seq);

    const older = (await bob.agent.get(`${historyPath(alice)}?before=${latest.messages[0].seq}`)).body;
    expect(contents(older.messages)).toEqual(range(21, 70));
    expect(older.hasOlder).toBe(true);

    const oldest = (await bob.agent.get(`${historyPath(alice)}?before=${older.messages[0].seq}`)).body;
    expect(contents(oldest.messages)).toEqual(range(1, 20));
    expect(oldest.hasOlder).toBe(false);

    const all = [...oldest.messages, ...older.messages, ...latest.messages];
    expect(all.map((m: MessageView) => m._id)).toEqual(sent.map((m) => m._id));
  });

  it('is the same conversation from both sides', async () => {
    const fromAlice = (await alice.agent.get(historyPath(bob))).body;
    const fromBob = (await bob.agent.get(historyPath(alice))).body;
    expect(fromAlice.messages).toEqual(fromBob.messages);
    expect(fromAlice.user).toMatchObject({ _id: bob.id, username: bob.username, online: false });
  });

  it('renders the newest 50 on the conversation page with a link to older ones, and the older page on demand', async () => {
    const page = await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}`);
    const ids = [...page.text.matchAll(/data-message-id="([0-9a-f]{24})"/g)].map((m) => m[1]);
    expect(ids).toEqual(sent.slice(70).map((m) => m._id));
    expect(page.text).toContain(`data-chat-older href="?before=${sent[70]!.seq}"`);

    const older = await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}?before=${sent[70]!.seq}`);
    const olderIds = [...older.text.matchAll(/data-message-id="([0-9a-f]{24})"/g)].map((m) => m[1]);
    expect(olderIds).toEqual(sent.slice(20, 70).map((m) => m._id));
    expect(older.text).toContain('Back to the newest messages');
  });

  it('is private to the two people in it', async () => {
    const eve = await registerUser(server.url);
    const res = await eve.agent.get(historyPath(alice));
    expect(res.status).toBe(200);
    expect(res.body.messages).toEqual([]);
  });
});

describe('catching up after a dropped connection', () => {
  it('fetches only what arrived meanwhile, in order, across a page boundary', async () => {
    const after = sent[40]!.seq; // the newest message the client had
    const first = (await bob.agent.get(`${historyPath(alice)}?after=${after}`)).body;
    expect(contents(first.messages)).toEqual(range(42, 91));
    expect(first.hasNewer).toBe(true);
    const rest = (await bob.agent.get(`${historyPath(alice)}?after=${first.messages.at(-1).seq}`)).body;
    expect(contents(rest.messages)).toEqual(range(92, 120));
    expect(rest.hasNewer).toBe(false);
    const none = (await bob.agent.get(`${historyPath(alice)}?after=${sent.at(-1)!.seq}`)).body;
    expect(none).toMatchObject({ messages: [], hasNewer: false });
  });

  it('gives a reconnecting client every message sent while it was away, each exactly once', async () => {
    const [carol, dan] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const carolSocket = await connectAs(server.url, carol);
    let danSocket = await connectAs(server.url, dan);
    const shown = new Map<string, MessageView>();
    const show = (m: MessageView) => shown.set(m._id, m);
    danSocket.on('sendback', (p) => show(p.message));

    const live = nextEvent(danSocket, 'sendback');
    await send(carolSocket, dan, 'before the drop');
    await live;
    danSocket.disconnect();

    const whileAway = [];
    for (const text of ['while away 1', 'while away 2', 'while away 3']) whileAway.push(await send(carolSocket, dan, text));

    danSocket = await connectAs(server.url, dan);
    const afterReconnect = collect(danSocket, 'sendback');
    const newest = Math.max(...[...shown.values()].map((m) => m.seq));
    const caughtUp = (await dan.agent.get(`${historyPath(carol)}?after=${newest}`)).body;
    caughtUp.messages.forEach(show);
    const liveAgain = nextEvent(danSocket, 'sendback');
    await send(carolSocket, dan, 'after the reconnect');
    show((await liveAgain).message);
    afterReconnect.forEach((p) => show(p.message));

    expect([...shown.values()].sort((a, b) => a.seq - b.seq).map((m) => m.content)).toEqual([
      'before the drop',
      'while away 1',
      'while away 2',
      'while away 3',
      'after the reconnect',
    ]);
    expect(caughtUp.messages.map((m: MessageView) => m._id)).toEqual(whileAway.map((m) => m._id));
  });
});
