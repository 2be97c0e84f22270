// An inbox document stays bounded however many people a member talks with (see
// MessageStore.trimInbox), and the header badge follows this process's writes at once.
// Written against the storage, on the real engine.
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { connectDatabase } from '../../src/db/database.ts';
import { createLogger } from '../../src/log.ts';
import { conversationId, encodeLast, entryKey, InboxModel, unreadTotalOf, type InboxDoc, type InboxEntry } from '../../src/messaging/models.ts';
import { messageId } from '../../src/messaging/service.ts';
import { createMessagingStorage, type MessagingStorage } from '../../src/messaging/storage.ts';
import { INBOX_KEEP } from '../../src/messaging/store.ts';
import { testDatabaseUri } from '../support/database.ts';

const log = createLogger(loadConfig({ LOG_LEVEL: 'silent' }));

beforeAll(async () => {
  await connectDatabase(testDatabaseUri('inboxtrim'));
});
afterAll(async () => {
  await mongoose.disconnect();
});

const otherId = (i: number) => `0000000000000000${String(i).padStart(8, '0')}`;

/** An inbox with `count` conversations, the i-th last active at minute i; every tenth has 2 unread. */
function seededInbox(owner: string, count: number): InboxDoc {
  const e: Record<string, InboxEntry> = {};
  for (let i = 0; i < count; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, i));
    e[entryKey(otherId(i))] = {
      conv: `c${i}`,
      user: otherId(i),
      username: `member${i}`,
      r: 5,
      k: i % 10 === 0 ? 3 : 5,
      last: encodeLast({ seq: 1, at, from: otherId(i), preview: `hello ${i}` }),
    };
  }
  return { _id: owner, v: 7, e };
}

function send(storage: MessagingStorage, from: string, to: string, n: number) {
  const clientId = `c-${from}-${n}-${Math.random()}`;
  return storage.commit.submit({
    message: { _id: messageId(from, clientId), conv: conversationId(from, to), from, to, content: `message ${n}`, createdAt: new Date(), clientId },
    sender: { id: from, username: `u${from.slice(-4)}` },
    recipient: { id: to, username: `u${to.slice(-4)}` },
  });
}

describe('a member with very many conversations', () => {
  it('keeps the most recent ones, read ones leaving first, and every unread one', async () => {
    const owner = new mongoose.Types.ObjectId().toHexString();
    const seeded = seededInbox(owner, INBOX_KEEP + 41);
    await InboxModel.collection.insertOne(seeded as never);
    const { store } = createMessagingStorage({ log });

    await store.trimInbox(owner, seeded);

    const after = (await InboxModel.findById(owner).lean<InboxDoc>())!;
    const keys = Object.keys(after.e ?? {});
    expect(keys).toHaveLength(INBOX_KEEP);
    // Every unread conversation stayed (25 of them, well under the unread cap)…
    for (let i = 0; i < INBOX_KEEP + 41; i += 10) expect(keys).toContain(entryKey(otherId(i)));
    // …and the ones that left are the oldest read ones.
    expect(keys).not.toContain(entryKey(otherId(1)));
    expect(keys).toContain(entryKey(otherId(INBOX_KEEP + 40)));
    expect(unreadTotalOf(after)).toBe(unreadTotalOf(seeded));
  });

  it('trims nothing when the inbox changed since it was read (a message landed meanwhile)', async () => {
    const owner = new mongoose.Types.ObjectId().toHexString();
    const seeded = seededInbox(owner, INBOX_KEEP + 41);
    await InboxModel.collection.insertOne(seeded as never);
    const { store } = createMessagingStorage({ log });
    // The write that lands between the read and the trim.
    await InboxModel.updateOne({ _id: owner }, { $inc: { v: 1 } }).exec();

    await store.trimInbox(owner, seeded);

    expect(Object.keys((await InboxModel.findById(owner).lean<InboxDoc>())!.e ?? {})).toHaveLength(INBOX_KEEP + 41);
  });
});

describe('the header badge', () => {
  it("shows this process's own writes at once, and another process's after the cache time", async () => {
    const reader = new mongoose.Types.ObjectId().toHexString();
    const sender = new mongoose.Types.ObjectId().toHexString();
    const here = createMessagingStorage({ log, badgeCacheMs: 60_000 });
    const elsewhere = createMessagingStorage({ log });
    expect(await here.store.unreadTotal(reader)).toEqual({ total: 0, v: 0 });

    await send(here, sender, reader, 1);
    expect((await here.store.unreadTotal(reader)).total).toBe(1);

    // Another process's write: remembered value until it expires (open tabs hear of it over their socket).
    // (Two memory-counted storages on one conversation would number it twice: this one writes to another.)
    const sender2 = new mongoose.Types.ObjectId().toHexString();
    await send(elsewhere, sender2, reader, 2);
    await elsewhere.views.flush(5000);
    expect((await here.store.unreadTotal(reader)).total).toBe(1);
    expect((await createMessagingStorage({ log }).store.unreadTotal(reader)).total).toBe(2);

    // Marking read here is seen here at once.
    await here.store.markRead(reader, sender, conversationId(reader, sender), undefined);
    expect(await here.store.unreadTotal(reader)).toMatchObject({ total: 1 });
  });
});
