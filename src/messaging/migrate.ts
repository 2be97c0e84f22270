// On start: data written before counted conversations (every conversation document
// without `n`) gets its counts, once. Then each member's inbox entry carries absolute
// received/read counts (r, k) instead of an unread count, and the conversation knows
// how many messages it holds, who sent them and how many each member has read, so that
// what each member had unread stays unread. History pages of the old format (`m`, an
// array) are read as they are: nothing in them changes.
//
// Counting reads every message once (one pass over the collection, only when some
// conversation needs it); every write is absolute, so two processes starting together
// both doing it, or a start cut short and repeated, give the same result.
import mongoose from 'mongoose';
import type { Logger } from '../log.ts';
import { ConversationModel, entryKey, InboxModel, MessageModel, type ConversationDoc, type InboxDoc } from './models.ts';
import { MAX_STATEMENTS } from './views.ts';
import { upsertRetryingOnce } from '../db/upsert.ts';

const MIGRATION_ID = 'messaging-counts-1';

interface Tally {
  n: number;
  last: number;
  sent: Record<string, number>;
}

function migrations() {
  return mongoose.connection.collection<{ _id: string; at: Date }>('migrations');
}

export async function migrateMessaging(log: Logger): Promise<number> {
  if (await migrations().findOne({ _id: MIGRATION_ID })) return 0;
  const legacy = (await ConversationModel.find().lean<ConversationDoc[]>().exec()).filter((c) => c.n === undefined);
  if (legacy.length > 0) {
    const wanted = new Set(legacy.map((c) => c._id));
    const tallies = new Map<string, Tally>();
    const cursor = MessageModel.collection.find({}, { projection: { conv: 1, from: 1, seq: 1 }, batchSize: 5000 });
    for await (const m of cursor) {
      const conv = String(m.conv);
      if (!wanted.has(conv)) continue;
      const tally = tallies.get(conv) ?? { n: 0, last: 0, sent: {} };
      tally.n += 1;
      tally.last = Math.max(tally.last, Number(m.seq));
      const key = entryKey(String(m.from));
      tally.sent[key] = (tally.sent[key] ?? 0) + 1;
      tallies.set(conv, tally);
    }
    const members = [...new Set(legacy.flatMap((c) => c.participants))];
    const inboxes = new Map<string, InboxDoc>();
    for (const id of members) {
      const doc = await InboxModel.findById(id).lean<InboxDoc>().exec();
      if (doc) inboxes.set(id, doc);
    }
    const convOps: object[] = [];
    const inboxSets = new Map<string, Record<string, number>>();
    for (const c of legacy) {
      const tally = tallies.get(c._id) ?? { n: 0, last: 0, sent: {} };
      const max: Record<string, number> = { n: tally.n, last: tally.last, seq: Math.max(c.seq ?? 0, tally.last) };
      for (const [key, value] of Object.entries(tally.sent)) max[`sent.${key}`] = value;
      for (const member of c.participants) {
        const other = c.participants.find((p) => p !== member) ?? member;
        const entry = inboxes.get(member)?.e?.[entryKey(other)];
        const got = tally.n - (tally.sent[entryKey(member)] ?? 0);
        const read = Math.max(0, got - Math.max(0, entry?.unread ?? 0));
        max[`readN.${entryKey(member)}`] = read;
        if (entry) {
          const set = inboxSets.get(member) ?? {};
          set[`e.${entryKey(other)}.r`] = got;
          set[`e.${entryKey(other)}.k`] = read;
          inboxSets.set(member, set);
        }
      }
      convOps.push({ updateOne: { filter: { _id: c._id }, update: { $max: max } } });
    }
    for (let i = 0; i < convOps.length; i += MAX_STATEMENTS) {
      await ConversationModel.collection.bulkWrite(convOps.slice(i, i + MAX_STATEMENTS) as never, { ordered: false });
    }
    const inboxOps = [...inboxSets].map(([owner, max]) => ({ updateOne: { filter: { _id: owner }, update: { $max: max } } }));
    for (let i = 0; i < inboxOps.length; i += MAX_STATEMENTS) {
      await InboxModel.collection.bulkWrite(inboxOps.slice(i, i + MAX_STATEMENTS) as never, { ordered: false });
    }
    log.info({ conversations: legacy.length }, 'messaging: counted the messages of conversations stored before counts');
  }
  // Two processes starting on one database both get here: the loser of the upsert race updates.
  await upsertRetryingOnce(() => migrations().updateOne({ _id: MIGRATION_ID }, { $set: { at: new Date() } }, { upsert: true }));
  return legacy.length;
}
