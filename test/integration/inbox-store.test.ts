// An inbox document stays bounded however many people a member talks with: see
// MessageStore.trimInbox. Written against the store, on the real engine.
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/database.ts';
import { encodeLast, entryKey, InboxModel, type InboxDoc, type InboxEntry } from '../../src/messaging/models.ts';
import { INBOX_KEEP, MessageStore } from '../../src/messaging/store.ts';
import { testDatabaseUri } from '../support/database.ts';

beforeAll(async () => {
  await connectDatabase(testDatabaseUri('inboxtrim'));
});
afterAll(async () => {
  await mongoose.disconnect();
});

const owner = new mongoose.Types.ObjectId().toHexString();
const otherId = (i: number) => `0000000000000000${String(i).padStart(8, '0')}`;

/** An inbox with `count` conversations, the i-th last active at minute i; every tenth unread (2 each). */
function seededInbox(count: number): InboxDoc {
  const e: Record<string, InboxEntry> = {};
  for (let i = 0; i < count; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, i));
    e[entryKey(otherId(i))] = {
      conv: `c${i}`,
      user: otherId(i),
      username: `member${i}`,
      unread: i % 10 === 0 ? 2 : 0,
      last: encodeLast({ seq: 1, at, from: otherId(i), preview: `hello ${i}` }),
    };
  }
  const unreadTotal = Object.values(e).reduce((sum, entry) => sum + (entry.unread ?? 0), 0);
  return { _id: owner, unreadTotal, v: 1, e };
}

describe('a member with very many conversations', () => {
  it('keeps the most recent ones, read ones leaving first, and the unread total in step', async () => {
    const seeded = seededInbox(INBOX_KEEP + 40);
    await InboxModel.collection.insertOne(seeded as never);
    const store = new MessageStore();
    const newcomer = { id: otherId(9999), username: 'newcomer' };
    const message = { _id: 'm1', conv: 'cnew', seq: 1, from: newcomer.id, to: owner, content: 'hi there', createdAt: new Date(), clientId: 'x' };

    const state = await store.recordInInbox(owner, newcomer, message, { incoming: true });

    const after = (await InboxModel.findById(owner).lean<InboxDoc>())!;
    const keys = Object.keys(after.e ?? {});
    expect(keys).toHaveLength(INBOX_KEEP);
    expect(keys).toContain(entryKey(newcomer.id));
    // Every unread conversation stayed (there are 24 of them, well under the unread cap)…
    for (let i = 0; i < INBOX_KEEP + 40; i += 10) expect(keys).toContain(entryKey(otherId(i)));
    // …and the ones that left are the oldest read ones.
    expect(keys).not.toContain(entryKey(otherId(1)));
    expect(keys).toContain(entryKey(otherId(INBOX_KEEP + 39)));
    const unreadInEntries = Object.values(after.e ?? {}).reduce((sum, entry) => sum + (entry.unread ?? 0), 0);
    expect(after.unreadTotal).toBe(unreadInEntries);
    expect(state.total).toBe(seeded.unreadTotal! + 1);
    expect(state.count).toBe(1);
  });
});

describe('the header badge', () => {
  const message = (to: string, seq: number) => ({ _id: `b${to}${seq}`, conv: `c${to}`, seq, from: otherId(1), to, content: 'hi', createdAt: new Date(), clientId: `c${seq}` });
  const sender = { id: otherId(1), username: 'sender' };

  it("shows this process's own writes at once, and another process's after the cache time", async () => {
    const reader = new mongoose.Types.ObjectId().toHexString();
    const here = new MessageStore({ badgeCacheMs: 60_000 });
    const elsewhere = new MessageStore();
    expect(await here.unreadTotal(reader)).toEqual({ total: 0, v: 0 });

    await here.recordInInbox(reader, sender, message(reader, 1), { incoming: true });
    expect((await here.unreadTotal(reader)).total).toBe(1);

    // Another process's write: remembered value until it expires (open tabs hear of it over their socket).
    await elsewhere.recordInInbox(reader, sender, message(reader, 2), { incoming: true });
    expect((await here.unreadTotal(reader)).total).toBe(1);
    expect((await new MessageStore({ badgeCacheMs: 0 }).unreadTotal(reader)).total).toBe(2);

    // Marking read here is seen here at once.
    await here.markRead(reader, sender.id, undefined);
    expect(await here.unreadTotal(reader)).toMatchObject({ total: 0 });
  });
});
