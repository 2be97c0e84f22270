// A database written before messages were stored in groups (the format of the code
// before it: seq counters, `$push`ed pages, inboxes holding unread counts) keeps working
// after an upgrade: the start counts its conversations once, and members find their
// history, their unread counts and their previews as they left them; new messages number
// on and count on from there.
import { MongoClient } from 'mongodb';
import { freePort } from '../../src/db/embedded.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { conversationId, encodeLast, entryKey, toPageEntry, type StoredMessage } from '../../src/messaging/models.ts';
import { messageId } from '../../src/messaging/service.ts';
import type { MarkReadAck } from '../../src/realtime/events.ts';
import { testDatabaseUri } from '../support/database.ts';
import { sendTo } from '../support/messaging.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { closeAllSockets, connectAs, emitAck } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

const uri = testDatabaseUri('migrate');
let server: TestServer | undefined;

afterAll(async () => {
  closeAllSockets();
  await server?.close();
});

function legacyMessages(a: SignedInUser, b: SignedInUser, plan: [from: SignedInUser, seq: number][]): StoredMessage[] {
  return plan.map(([from, seq]) => {
    const to = from === a ? b : a;
    const clientId = `legacy-${seq}`;
    return { _id: messageId(from.id, clientId), conv: conversationId(a.id, b.id), seq, from: from.id, to: to.id, content: `legacy ${seq}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, seq)), clientId };
  });
}

/** What the code before group commit left: written here field by field in its format. */
async function writeLegacyData(alice: SignedInUser, bob: SignedInUser, carol: SignedInUser): Promise<void> {
  const client = await MongoClient.connect(uri);
  try {
    const db = client.db();
    // Alice and Bob: seq 6 was allocated but its insert failed (a gap). Bob read up to 2
    // and has 3 and 5 unread; Alice has 4 unread.
    const ab = legacyMessages(alice, bob, [
      [alice, 1],
      [alice, 2],
      [alice, 3],
      [bob, 4],
      [alice, 5],
    ]);
    // Carol and Bob: one message, unread, in the inbox format before `last`.
    const cb = legacyMessages(carol, bob, [[carol, 1]]);
    await db.collection('messages').insertMany([...ab, ...cb] as never[]);
    await db.collection('message_pages').insertMany([
      { _id: `${ab[0]!.conv}:0`, conv: ab[0]!.conv, n: 0, m: ab.map(toPageEntry) },
      { _id: `${cb[0]!.conv}:0`, conv: cb[0]!.conv, n: 0, m: cb.map(toPageEntry) },
    ] as never[]);
    const now = new Date();
    await db.collection('conversations').insertMany([
      { _id: ab[0]!.conv, participants: [alice.id, bob.id].sort(), seq: 6, readSeq: { [entryKey(bob.id)]: 2 }, createdAt: now, updatedAt: now },
      { _id: cb[0]!.conv, participants: [carol.id, bob.id].sort(), seq: 1, readSeq: {}, createdAt: now, updatedAt: now },
    ] as never[]);
    const lastAb = ab.at(-1)!;
    const last = encodeLast({ seq: lastAb.seq, at: lastAb.createdAt, from: lastAb.from, preview: lastAb.content });
    await db.collection('inboxes').insertMany([
      {
        _id: bob.id,
        unreadTotal: 3,
        v: 9,
        e: {
          [entryKey(alice.id)]: { conv: ab[0]!.conv, user: alice.id, username: alice.username, unread: 2, last },
          [entryKey(carol.id)]: { conv: cb[0]!.conv, user: carol.id, username: carol.username, unread: 1, seq: 1, at: cb[0]!.createdAt, from: carol.id, preview: 'legacy 1' },
        },
      },
      { _id: alice.id, unreadTotal: 1, v: 6, e: { [entryKey(bob.id)]: { conv: ab[0]!.conv, user: bob.id, username: bob.username, unread: 1, last } } },
      { _id: carol.id, unreadTotal: 0, v: 1, e: { [entryKey(bob.id)]: { conv: cb[0]!.conv, user: bob.id, username: bob.username, unread: 0, seq: 1, at: cb[0]!.createdAt, from: carol.id, preview: 'legacy 1' } } },
    ] as never[]);
    // The code before kept no record of migrations.
    await db.collection('migrations').deleteMany({});
  } finally {
    await client.close();
  }
}

describe('an upgrade over data written before group commit', () => {
  it('keeps every member’s history, unread counts and previews, and numbers and counts on from there', { timeout: 60_000 }, async () => {
    // One port throughout: the members' agents keep talking to the same address.
    const env = { MONGODB_URI: uri, PORT: String(await freePort()) };
    server = await startTestServer(env);
    const [alice, bob, carol] = await Promise.all([registerUser(server.url), registerUser(server.url), registerUser(server.url)]);
    await server.close();
    await writeLegacyData(alice, bob, carol);

    server = await startTestServer(env);
    const inbox = (await bob.agent.get('/api/inbox')).body as { total: number; conversations: { user: { _id: string }; unread: number; last: { seq: number; preview: string } }[] };
    expect(inbox.total).toBe(3);
    const byUser = Object.fromEntries(inbox.conversations.map((c) => [c.user._id, c]));
    expect(byUser[alice.id]).toMatchObject({ unread: 2, last: { seq: 5, preview: 'legacy 5' } });
    expect(byUser[carol.id]).toMatchObject({ unread: 1, last: { seq: 1, preview: 'legacy 1' } });
    expect((await alice.agent.get('/api/inbox')).body.total).toBe(1);
    expect((await carol.agent.get('/api/inbox')).body.total).toBe(0);
    const history = (await bob.agent.get(`/messages/${alice.username}/history`)).body as { messages: { seq: number; content: string }[]; readUpTo: number };
    expect(history.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);

    // New messages number after the highest seq ever given, and count on.
    const aliceSocket = await connectAs(server.url, alice);
    const next = await sendTo(aliceSocket, bob, 'after the upgrade');
    expect(next.message.seq).toBe(7);
    expect((await bob.agent.get('/api/inbox')).body.total).toBe(4);
    const after = (await bob.agent.get(`/messages/${alice.username}/history`)).body as { messages: { seq: number }[] };
    expect(after.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 7]);

    // Reading clears exactly that conversation.
    const bobSocket = await connectAs(server.url, bob);
    expect(await emitAck<MarkReadAck>(bobSocket, 'markread', { user: alice.id })).toEqual({ ok: true, total: 1, count: 0 });
    expect(await emitAck<MarkReadAck>(aliceSocket, 'markread', { user: bob.id })).toEqual({ ok: true, total: 0, count: 0 });

    // A second start changes nothing.
    await server.close();
    server = await startTestServer(env);
    expect((await bob.agent.get('/api/inbox')).body.total).toBe(1);
    expect((await alice.agent.get('/api/inbox')).body.total).toBe(0);
  });
});
