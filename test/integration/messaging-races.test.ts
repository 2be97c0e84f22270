// Three interleavings that only MongoDB runs (it takes no lock, so two processes' writes
// to one document cross), driven here step by step, since CI has no MongoDB to find
// them by chance. Two "processes" are two storages sharing the database and Redis, as
// two app processes do. Each race broke the store before group commit:
//
// 1. trimming an inbox entry while a message lands on it left the unread total one too
//    high for good;
// 2. two devices marking read on two processes could clear a message nobody saw;
// 3. two processes finishing one cut-short message both counted it.
//
// Now every count is an absolute value written with `$max`, the owner of a
// conversation's counters decides a mark-read in one step, a batch is settled once per
// batch id, and a trim is conditional on the inbox version it read.
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { connectDatabase } from '../../src/db/database.ts';
import { createLogger } from '../../src/log.ts';
import { conversationId, ConversationModel, encodeLast, entryKey, InboxModel, MessageModel, unreadTotalOf, type ConversationDoc, type InboxDoc, type StoredMessage } from '../../src/messaging/models.ts';
import { messageId } from '../../src/messaging/service.ts';
import { createMessagingStorage, type MessagingStorage } from '../../src/messaging/storage.ts';
import { INBOX_KEEP } from '../../src/messaging/store.ts';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/app-process.ts';
import { testDatabaseUri } from '../support/database.ts';

const log = createLogger(loadConfig({ LOG_LEVEL: 'silent' }));
const prefix = uniqueRedisPrefix('races');
const clients: Redis[] = [];

beforeAll(async () => {
  await connectDatabase(testDatabaseUri('races'));
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await deleteRedisKeys(prefix);
  await mongoose.disconnect();
});

/** One app process's messaging storage: its own view writer and queue, the shared Redis counters. */
function aProcess(): MessagingStorage {
  const client = new Redis(TEST_REDIS_URL);
  clients.push(client);
  return createMessagingStorage({ log, redis: { client, key: (name) => `${prefix}:${name}` } });
}

const newId = () => new mongoose.Types.ObjectId().toHexString();
const party = (id: string) => ({ id, username: `u${id.slice(-6)}` });
let sent = 0;

async function send(p: MessagingStorage, from: string, to: string): Promise<StoredMessage> {
  const clientId = `race-${++sent}`;
  const result = await p.commit.submit({
    message: { _id: messageId(from, clientId), conv: conversationId(from, to), from, to, content: `message ${sent}`, createdAt: new Date(), clientId },
    sender: party(from),
    recipient: party(to),
  });
  if (result.status !== 'stored') throw new Error('not stored');
  await p.views.flush(5000);
  return result.message;
}

const unread = async (owner: string) => unreadTotalOf(await InboxModel.findById(owner).lean<InboxDoc>());

describe('races between processes (MongoDB takes no lock)', () => {
  it('1. an inbox trimmed while a message lands on it keeps its count right', async () => {
    const [p1, p2] = [aProcess(), aProcess()];
    const [bob, alice] = [newId(), newId()];
    const conv = conversationId(alice, bob);
    const first = await send(p1, alice, bob);
    await p1.store.markRead(bob, alice, conv, first.seq);
    // Bob talks with many more people since: his conversation with Alice is the oldest, and read.
    const later = new Date(Date.now() + 60_000);
    const others = Object.fromEntries(
      Array.from({ length: INBOX_KEEP + 50 }, (_, i) => {
        const id = String(i).padStart(24, '0');
        return [entryKey(id), { conv: `c${i}`, user: id, username: `m${i}`, r: 1, k: 1, last: encodeLast({ seq: 1, at: later, from: id, preview: 'hi' }) }];
      }),
    );
    await InboxModel.updateOne({ _id: bob }, { $set: Object.fromEntries(Object.entries(others).map(([k, v]) => [`e.${k}`, v])) }).exec();
    // Process 1 reads Bob's inbox to trim it: Alice's entry is the one to go…
    const seen = (await InboxModel.findById(bob).lean<InboxDoc>())!;
    // …a message from Alice lands through process 2…
    await send(p2, alice, bob);
    // …and the trim, written against what it read, drops nothing.
    await p1.store.trimInbox(bob, seen);
    expect(await unread(bob)).toBe(1);
    // Had it dropped the entry, the next message's absolute counts bring it back whole.
    await InboxModel.updateOne({ _id: bob }, { $unset: { [`e.${entryKey(alice)}`]: '' } }).exec();
    await send(p1, alice, bob);
    expect(await unread(bob)).toBe(2);
  });

  it('2. two devices marking read on two processes cannot clear a message neither saw', async () => {
    const [p1, p2] = [aProcess(), aProcess()];
    const [bob, alice] = [newId(), newId()];
    const conv = conversationId(alice, bob);
    const first = await send(p1, alice, bob);
    // Both of Bob's devices show message 1. Then message 2 lands, seen by neither.
    await send(p2, alice, bob);
    // Each device marks read up to what it saw, on its own process, in either order.
    const [a, b] = await Promise.all([p1.store.markRead(bob, alice, conv, first.seq), p2.store.markRead(bob, alice, conv, first.seq)]);
    expect(a.changed || b.changed).toBe(false);
    expect(await unread(bob)).toBe(2);
    // Device B then sees message 2 and marks it; device A's late, older mark-read changes nothing.
    const latest = (await ConversationModel.findById(conv).lean<ConversationDoc>())!.last!;
    expect((await p2.store.markRead(bob, alice, conv, latest)).count).toBe(0);
    expect((await p1.store.markRead(bob, alice, conv, first.seq)).count).toBe(0);
    // And a third message counts one, whoever marked what.
    await send(p1, alice, bob);
    expect(await unread(bob)).toBe(1);
  });

  it('2b. the decision and the write of two mark-reads crossing leave the higher one', async () => {
    const [p1, p2] = [aProcess(), aProcess()];
    const [bob, alice] = [newId(), newId()];
    const conv = conversationId(alice, bob);
    await send(p1, alice, bob);
    // Device A's process decides (one message read)…
    const early = await p1.counters.markRead(conv, bob, undefined);
    // …message 2 lands, device B reads everything on process 2, written first…
    await send(p2, alice, bob);
    await p2.store.markRead(bob, alice, conv, undefined);
    // …then A's write, decided earlier, lands last.
    await InboxModel.updateOne({ _id: bob }, { $max: { [`e.u${alice}.k`]: early.readN } }).exec();
    expect(early.readN).toBe(1);
    expect(await unread(bob)).toBe(0);
  });

  it('3. two processes finishing one cut-short message count it once', async () => {
    const [p1, p2] = [aProcess(), aProcess()];
    const [bob, alice] = [newId(), newId()];
    const conv = conversationId(alice, bob);
    const seq = await p1.counters.reserve(conv, 1);
    const message = { _id: messageId(alice, 'cut'), conv, seq, from: alice, to: bob, content: 'cut short', createdAt: new Date(), clientId: 'cut' };
    await MessageModel.create(message);
    // Both processes find the batch unfinished and settle it, one after the other…
    const c1 = await p1.counters.settle('batch-cut', conv, [message], seq);
    const c2 = await p2.counters.settle('batch-cut', conv, [message], seq);
    expect([c1.n, c2.n]).toEqual([1, 1]);
    // …and both write its views.
    for (const [p, counts] of [[p1, c1], [p2, c2]] as const) {
      p.views.add({ messages: [message], parties: new Map([[alice, party(alice)], [bob, party(bob)]]), counts: new Map([[conv, counts]]) });
      await p.views.flush(5000);
    }
    expect(await unread(bob)).toBe(1);
    expect((await ConversationModel.findById(conv).lean<ConversationDoc>())?.n).toBe(1);
  });
});
