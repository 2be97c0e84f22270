// Stored conversations written straight into the collections, for benchmarks that need
// a million messages: sending them through the app would take hours. Every document is
// built here, with the app's own helpers, the way the messaging store would have left it
// after the messages were sent and read, so the pages read exactly what they would read
// in production. One function per collection: a change of storage format (the inbox,
// say) is a change to one function here.
import { type Db } from 'mongodb';
import {
  conversationId,
  encodeLast,
  entryKey,
  lastOf,
  pageEntryKey,
  pageId,
  pageNumber,
  toPageEntry,
  type InboxEntry,
  type StoredMessage,
} from '../../src/messaging/models.ts';
import { messageId } from '../../src/messaging/service.ts';
import { preview } from '../../src/messaging/preview.ts';
import { INBOX_KEEP, type Party } from '../../src/messaging/store.ts';

/** A conversation to seed: `count` messages, alternately from `a` and from `b`. */
export interface ConversationPlan {
  a: Party;
  b: Party;
  count: number;
}

const MINUTE_MS = 60_000;
/** Seeded messages are dated before the run, one minute apart, so anything sent during the run is newer. */
const SEED_EPOCH = Date.UTC(2025, 0, 1);

const WORDS = ['hello', 'are', 'you', 'coming', 'to', 'the', 'meetup', 'tonight', 'I', 'read', 'your', 'post', 'about', 'sockets', 'and', 'it', 'helped', 'thanks', 'see', 'later'];

/** Chat-like content of 20 to 120 characters, different for every message and the same on every run. */
function contentFor(conv: string, seq: number): string {
  const length = 20 + ((seq * 37 + conv.length * 11) % 100);
  let text = `#${seq}`;
  for (let i = 0; text.length < length; i++) text += ` ${WORDS[(seq * 7 + i * 3) % WORDS.length]}`;
  return text.slice(0, length);
}

/** The messages of one conversation, seq 1…count, with the `_id` the service derives from sender and client id. */
export function conversationMessages(plan: ConversationPlan, startAt = SEED_EPOCH): StoredMessage[] {
  const conv = conversationId(plan.a.id, plan.b.id);
  const messages: StoredMessage[] = [];
  for (let seq = 1; seq <= plan.count; seq++) {
    const [from, to] = seq % 2 === 1 ? [plan.a, plan.b] : [plan.b, plan.a];
    const clientId = `seed-${conv}-${seq}`;
    messages.push({
      _id: messageId(from.id, clientId),
      conv,
      seq,
      from: from.id,
      to: to.id,
      content: contentFor(conv, seq),
      createdAt: new Date(startAt + seq * MINUTE_MS),
      clientId,
    });
  }
  return messages;
}

/** `message_pages`: the conversation's messages, PAGE_SIZE per page by seq, keyed by seq as the view writer sets them. */
export function pageDocs(messages: StoredMessage[]): { _id: string; conv: string; n: number; s: Record<string, string> }[] {
  const pages = new Map<string, { _id: string; conv: string; n: number; s: Record<string, string> }>();
  for (const message of messages) {
    const n = pageNumber(message.seq);
    const id = pageId(message.conv, n);
    let page = pages.get(id);
    if (!page) pages.set(id, (page = { _id: id, conv: message.conv, n, s: {} }));
    page.s[pageEntryKey(message.seq)] = toPageEntry(message);
  }
  return [...pages.values()];
}

/** `conversations`: the seq counter at the last message, and both sides having read it all. */
export function conversationDoc(plan: ConversationPlan, messages: StoredMessage[]) {
  const last = messages.at(-1);
  const seq = last?.seq ?? 0;
  const participants = [plan.a.id, plan.b.id].sort();
  const sentBy = (id: string) => messages.filter((m) => m.from === id).length;
  return {
    _id: conversationId(plan.a.id, plan.b.id),
    seq,
    last: seq,
    n: messages.length,
    sent: { [entryKey(plan.a.id)]: sentBy(plan.a.id), [entryKey(plan.b.id)]: sentBy(plan.b.id) },
    // Both sides have read everything they received.
    readN: { [entryKey(plan.a.id)]: messages.length - sentBy(plan.a.id), [entryKey(plan.b.id)]: messages.length - sentBy(plan.b.id) },
    updatedAt: last?.createdAt ?? new Date(SEED_EPOCH),
    participants,
    createdAt: messages[0]?.createdAt ?? new Date(SEED_EPOCH),
    readSeq: { [entryKey(plan.a.id)]: seq, [entryKey(plan.b.id)]: seq },
  };
}

/** One side's inbox entry for a conversation: its last message, read (unread 0). */
export function inboxEntry(owner: Party, other: Party, messages: StoredMessage[]): InboxEntry {
  const last = messages.at(-1)!;
  const got = messages.filter((m) => m.to === owner.id).length;
  return {
    conv: last.conv,
    user: other.id,
    username: other.username,
    last: encodeLast({ seq: last.seq, at: last.createdAt, from: last.from, preview: preview(last.content) }),
    r: got,
    k: got,
  };
}

/**
 * `inboxes`: one document per owner holding their most recent entries, as many as the
 * app keeps (INBOX_KEEP; see MessageStore.trimInbox: every entry here is read, so the
 * oldest ones are those that leave). `changes` is how many writes the inbox has seen
 * (its version `v`): one per message in or out.
 */
export function inboxDoc(ownerId: string, all: InboxEntry[], changes: number) {
  const newestFirst = (a: InboxEntry, b: InboxEntry) => (lastOf(b)?.at.getTime() ?? 0) - (lastOf(a)?.at.getTime() ?? 0);
  const entries = all.length > INBOX_KEEP ? [...all].sort(newestFirst).slice(0, INBOX_KEEP) : all;
  return {
    _id: ownerId,
    v: changes,
    e: Object.fromEntries(entries.map((entry) => [entryKey(entry.user), entry])),
  };
}

export interface SeedProgress {
  messages: number;
  pages: number;
  conversations: number;
  inboxes: number;
  /** Time spent, in ms. */
  elapsedMs: number;
}

export interface SeedOptions {
  /** Messages per insertMany; pages are flushed at the same number of bytes' worth (about 1/50 as many documents). */
  batchSize?: number;
  /** Called now and then while seeding. */
  onProgress?: (progress: SeedProgress) => void;
}

interface InboxAccount {
  owner: Party;
  entries: InboxEntry[];
  changes: number;
}

/**
 * Writes every collection for these conversations: new conversations only (an existing
 * `_id` fails the insert), and inboxes for owners who have none yet, so a database grows
 * by calling this again with other pairs. One insert in flight while the next batch is
 * built keeps both the bench and the engine busy.
 */
export async function seedConversations(db: Db, plans: Iterable<ConversationPlan>, options: SeedOptions = {}): Promise<SeedProgress> {
  const batchSize = options.batchSize ?? 10_000;
  const started = performance.now();
  const progress: SeedProgress = { messages: 0, pages: 0, conversations: 0, inboxes: 0, elapsedMs: 0 };
  const inboxes = new Map<string, InboxAccount>();
  let pending: Promise<unknown> = Promise.resolve();
  const buffers = { messages: [] as StoredMessage[], message_pages: [] as ReturnType<typeof pageDocs>, conversations: [] as ReturnType<typeof conversationDoc>[] };

  async function flush(): Promise<void> {
    const batch = { ...buffers };
    buffers.messages = [];
    buffers.message_pages = [];
    buffers.conversations = [];
    await pending;
    pending = Promise.all([
      batch.messages.length ? db.collection<StoredMessage>('messages').insertMany(batch.messages, { ordered: false }) : undefined,
      batch.message_pages.length ? db.collection<{ _id: string }>('message_pages').insertMany(batch.message_pages, { ordered: false }) : undefined,
      batch.conversations.length ? db.collection<{ _id: string }>('conversations').insertMany(batch.conversations, { ordered: false }) : undefined,
    ]).then(() => {
      progress.messages += batch.messages.length;
      progress.pages += batch.message_pages.length;
      progress.conversations += batch.conversations.length;
      progress.elapsedMs = performance.now() - started;
      options.onProgress?.({ ...progress });
    });
  }

  const account = (owner: Party) => {
    let inbox = inboxes.get(owner.id);
    if (!inbox) inboxes.set(owner.id, (inbox = { owner, entries: [], changes: 0 }));
    return inbox;
  };

  // Each conversation starts a second after the one before: later plans are more recent,
  // as they would be had they been written in this order.
  let index = 0;
  for (const plan of plans) {
    const messages = conversationMessages(plan, SEED_EPOCH + index++ * 1000);
    buffers.messages.push(...messages);
    buffers.message_pages.push(...pageDocs(messages));
    buffers.conversations.push(conversationDoc(plan, messages));
    for (const [owner, other] of [[plan.a, plan.b], [plan.b, plan.a]] as const) {
      const inbox = account(owner);
      inbox.entries.push(inboxEntry(owner, other, messages));
      inbox.changes += messages.length;
    }
    if (buffers.messages.length >= batchSize) await flush();
  }
  await flush();
  await pending;

  const inboxDocs = [...inboxes.values()].map((inbox) => inboxDoc(inbox.owner.id, inbox.entries, inbox.changes));
  for (let i = 0; i < inboxDocs.length; i += 500) {
    await db.collection<{ _id: string }>('inboxes').insertMany(inboxDocs.slice(i, i + 500), { ordered: false });
  }
  progress.inboxes = inboxDocs.length;
  progress.elapsedMs = performance.now() - started;
  return progress;
}

/**
 * Conversations among `users`, `perConversation` messages each (the last one takes the
 * remainder), `total` messages in all: every user i talks with i+1, then every user with
 * i+2, and so on around the ring, so conversations spread evenly over the users. A
 * distance below half the ring never makes the same pair twice.
 */
export function* spreadConversations(users: Party[], total: number, perConversation: number): Generator<ConversationPlan> {
  const n = users.length;
  const maxDistance = Math.floor((n - 1) / 2);
  if (total > n * maxDistance * perConversation) throw new Error(`${n} users cannot hold ${total} messages at ${perConversation} per conversation`);
  let left = total;
  for (let distance = 1; left > 0; distance++) {
    for (let i = 0; i < n && left > 0; i++) {
      const count = Math.min(perConversation, left);
      left -= count;
      yield { a: users[i]!, b: users[(i + distance) % n]!, count };
    }
  }
}
