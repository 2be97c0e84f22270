// The writes one private message costs the database, as a pluggable model. The model
// here is a stand-in for Parley's design while messaging is being built: a message
// document, its conversation's summary, and the page ("bucket") of history it falls in.
// To measure the real thing, give the database scenario a MessageWriteModel whose
// writeOne calls the messaging service (see run.ts).
import { MongoClient, ObjectId, type AnyBulkWriteOperation, type Db } from 'mongodb';

export interface BenchMessage {
  seq: number;
  /** 24-hex user ids. */
  from: string;
  to: string;
  content: string;
  createdAt: Date;
}

export interface MessageWriter {
  /** Stores one message the way a send does, resolving once it is stored. */
  writeOne(message: BenchMessage): Promise<void>;
  /** Stores several at once, if the model knows how to group writes. */
  writeMany?(messages: BenchMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface MessageWriteModel {
  name: string;
  /** Which writes one message makes, for the report. */
  describe: string;
  /** Database commands per message for writeOne, for an ops/s figure. */
  commandsPerMessage: number;
  /** Database commands per call of writeMany, whatever the group's size. */
  commandsPerBatch?: number;
  /** Opens a writer on a fresh, empty database. */
  open(target: { uri: string; dbName: string }): Promise<MessageWriter>;
}

export const BUCKET_SIZE = 50;

const conversationKey = (a: string, b: string) => (a < b ? `${a}:${b}` : `${b}:${a}`);

function messageDocument(m: BenchMessage, conversation: string) {
  return { _id: new ObjectId(), conversation, from: new ObjectId(m.from), to: new ObjectId(m.to), content: m.content, createdAt: m.createdAt };
}

/** insertOne message + updateOne conversation ($inc/$set, upsert) + updateOne bucket ($push, upsert). */
export const modelledMessageWrites: MessageWriteModel = {
  name: 'modelled',
  describe:
    '`insertOne` into `messages`; `updateOne` of the conversation (`_id` = the pair, `$inc` count, `$set` last message, upsert); ' +
    `\`updateOne\` of the history page (\`_id\` = pair + page of ${BUCKET_SIZE}, \`$push\` the message id, \`$inc\` size, upsert)`,
  commandsPerMessage: 3,
  commandsPerBatch: 3,
  async open({ uri, dbName }) {
    const client = await MongoClient.connect(uri, { maxPoolSize: 64 });
    const db = client.db(dbName);
    const counts = new Map<string, number>();
    // Which page a message lands on: a real service would learn it from the conversation's count.
    const nextPosition = (conversation: string) => {
      const n = counts.get(conversation) ?? 0;
      counts.set(conversation, n + 1);
      return n;
    };
    return {
      async writeOne(m) {
        const conversation = conversationKey(m.from, m.to);
        const doc = messageDocument(m, conversation);
        const page = Math.floor(nextPosition(conversation) / BUCKET_SIZE);
        await db.collection('messages').insertOne(doc);
        await upsert(db, 'conversations', conversation, {
          $inc: { count: 1 },
          $set: { lastMessageId: doc._id, lastFrom: doc.from, lastAt: doc.createdAt },
        });
        await upsert(db, 'buckets', `${conversation}:${page}`, { $push: { messages: doc._id }, $inc: { size: 1 } });
      },
      async writeMany(messages) {
        const docs = messages.map((m) => messageDocument(m, conversationKey(m.from, m.to)));
        const byConversation = new Map<string, (typeof docs)[number][]>();
        const byBucket = new Map<string, ObjectId[]>();
        for (const doc of docs) {
          addTo(byConversation, doc.conversation, doc);
          addTo(byBucket, `${doc.conversation}:${Math.floor(nextPosition(doc.conversation) / BUCKET_SIZE)}`, doc._id);
        }
        await db.collection('messages').insertMany(docs, { ordered: true });
        await bulkUpsert(db, 'conversations', [...byConversation].map(([id, group]) => {
          const last = group[group.length - 1]!;
          return { id, update: { $inc: { count: group.length }, $set: { lastMessageId: last._id, lastFrom: last.from, lastAt: last.createdAt } } };
        }));
        await bulkUpsert(db, 'buckets', [...byBucket].map(([id, ids]) => ({ id, update: { $push: { messages: { $each: ids } }, $inc: { size: ids.length } } })));
      },
      close: () => client.close(),
    };
  },
};

const isDuplicateKey = (err: unknown) => (err as { code?: unknown })?.code === 11000;

/**
 * Two upserts of a new _id at once: one inserts, the other fails with a duplicate key
 * (MongoDB retries that itself in some cases, FerretDB never). Once the document exists
 * the retry is a plain update.
 */
async function upsert(db: Db, collection: string, id: string, update: Record<string, unknown>): Promise<void> {
  const target = db.collection<{ _id: string }>(collection);
  try {
    await target.updateOne({ _id: id }, update, { upsert: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await target.updateOne({ _id: id }, update, { upsert: true });
  }
}

function addTo<T>(groups: Map<string, T[]>, key: string, value: T): void {
  const list = groups.get(key);
  if (list) list.push(value);
  else groups.set(key, [value]);
}

async function bulkUpsert(db: Db, collection: string, updates: { id: string; update: Record<string, unknown> }[]): Promise<void> {
  const operations: AnyBulkWriteOperation<{ _id: string }>[] = updates.map(({ id, update }) => ({
    updateOne: { filter: { _id: id }, update, upsert: true },
  }));
  await db.collection<{ _id: string }>(collection).bulkWrite(operations, { ordered: true });
}

/** A deterministic stream of messages: 100 users, each writing to five others. */
export function benchMessages(): (seq: number) => BenchMessage {
  const users = Array.from({ length: 100 }, () => new ObjectId().toHexString());
  const content = 'a message of ordinary length, about as long as people write in a chat: eighty chars';
  return (seq) => {
    const sender = seq % users.length;
    const recipient = (sender + 1 + (Math.floor(seq / users.length) % 5)) % users.length;
    return { seq, from: users[sender]!, to: users[recipient]!, content, createdAt: new Date() };
  };
}
