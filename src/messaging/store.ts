// Every read and write of messaging data. Writes to one document queue behind each
// other (see db/serial-writes.ts); each is a single MongoDB update operator, so on
// MongoDB they stay atomic across processes as well.
import { createReadCache, type ReadCache } from '../db/read-cache.ts';
import { createSerialWrites, type SerialWrites } from '../db/serial-writes.ts';
import {
  ConversationModel,
  encodeLast,
  entryKey,
  fromPageEntry,
  InboxModel,
  lastOf,
  MessageModel,
  MessagePageModel,
  pageId,
  pageNumber,
  PAGE_SIZE,
  toPageEntry,
  type ConversationDoc,
  type InboxDoc,
  type PageDoc,
  type StoredMessage,
} from './models.ts';

export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/** An upsert racing another upsert of the same new `_id` (another process) loses with E11000; the retry then updates. */
async function upsertRetryingOnce<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return write();
  }
}

/** Appends the message to history page `id` (number `n`), making the page if it is the first. */
async function pushToPage(id: string, n: number, message: StoredMessage): Promise<void> {
  await upsertRetryingOnce(() =>
    MessagePageModel.updateOne({ _id: id }, { $push: { m: toPageEntry(message) }, $setOnInsert: { conv: message.conv, n } }, { upsert: true }).exec(),
  );
}

export interface UnreadState {
  /** The inbox version after the change: clients keep the highest they have seen. */
  v: number;
  total: number;
  /** Unread messages from this one person. */
  count: number;
}

export interface Party {
  id: string;
  username: string;
}

export interface HistorySlice {
  messages: StoredMessage[];
  /** True when messages older than the first one returned may exist. */
  hasOlder: boolean;
  /** True when messages newer than the last one returned exist (only for `after`). */
  hasNewer: boolean;
  latestSeq: number;
  readSeq: Record<string, number>;
}

const PREVIEW_LENGTH = 120;

/** Conversations an inbox document keeps (see trimInbox). */
export const INBOX_KEEP = 200;
/** Trimming waits for this many more, so it runs once per that many new conversations. */
const INBOX_SLACK = 40;
/** Unread conversations are kept past INBOX_KEEP, up to this many. */
const INBOX_MAX_UNREAD_KEPT = 1000;

export function preview(content: string): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length > PREVIEW_LENGTH ? `${chars.slice(0, PREVIEW_LENGTH - 1).join('')}…` : flat;
}

function unreadStateOf(doc: InboxDoc | null, otherUserId: string): UnreadState {
  return {
    v: doc?.v ?? 0,
    total: Math.max(0, doc?.unreadTotal ?? 0),
    count: Math.max(0, doc?.e?.[entryKey(otherUserId)]?.unread ?? 0),
  };
}

function bySeq(a: StoredMessage, b: StoredMessage): number {
  return a.seq - b.seq || (a._id < b._id ? -1 : 1);
}

export interface MessageStoreOptions {
  serial?: SerialWrites;
  /**
   * True when writes to one document never run concurrently (FerretDB: the serial queue,
   * and across processes its Redis lock). Updates then filter on `_id` alone, the only
   * filter FerretDB 1.x looks up by index instead of scanning the collection.
   */
  exclusiveWrites?: boolean;
  /**
   * How long this process answers the header badge (unread total) from memory, in ms; 0
   * reads the inbox every time. Every signed-in page shows the badge, and the engine
   * decodes the whole inbox document to answer it. This process's own inbox writes
   * drop the remembered value at once; another process's show within this time (and
   * open tabs get them live over their socket in any case).
   */
  badgeCacheMs?: number;
}

export class MessageStore {
  private readonly serial: SerialWrites;
  /** Keyed by owner id (24 hex digits, so an id is also the exact prefix to invalidate). */
  private readonly badges: ReadCache;

  constructor(private readonly options: MessageStoreOptions = {}) {
    this.serial = options.serial ?? createSerialWrites();
    this.badges = createReadCache({ ttlMs: options.badgeCacheMs ?? 0, maxEntries: 10_000 });
  }

  get pendingWrites(): number {
    return this.serial.pending;
  }

  /** The next seq of the conversation, creating the conversation on its first message. */
  allocateSeq(conv: string, participants: [string, string], now: Date): Promise<number> {
    return this.serial.run(`conv:${conv}`, () =>
      upsertRetryingOnce(async () => {
        const doc = await ConversationModel.findOneAndUpdate(
          { _id: conv },
          { $inc: { seq: 1 }, $set: { updatedAt: now }, $setOnInsert: { participants, createdAt: now, readSeq: {} } },
          { upsert: true, returnDocument: 'after' },
        )
          .lean<ConversationDoc>()
          .exec();
        return doc.seq;
      }),
    );
  }

  /** 'duplicate' when this `_id` (sender + client id) is stored already. */
  async insertMessage(message: StoredMessage): Promise<'inserted' | 'duplicate'> {
    try {
      await MessageModel.create(message);
      return 'inserted';
    } catch (err) {
      if (isDuplicateKey(err)) return 'duplicate';
      throw err;
    }
  }

  findMessage(id: string): Promise<StoredMessage | null> {
    return MessageModel.findById(id).lean<StoredMessage>().exec();
  }

  /** Adds a newly stored message to its history page. */
  appendToPage(message: StoredMessage): Promise<void> {
    const n = pageNumber(message.seq);
    const id = pageId(message.conv, n);
    return this.serial.run(`page:${id}`, () => pushToPage(id, n, message));
  }

  /**
   * Adds the message to its page unless it is there already; true when it was missing.
   * Read, then push, inside the page's queue. (Entries are strings, and in any case
   * FerretDB 1.x evaluates `{'m._id': {$ne: id}}` as "some element differs" rather than
   * MongoDB's "no element equals", so the check cannot be left to a filter.)
   */
  ensureInPage(message: StoredMessage): Promise<boolean> {
    const n = pageNumber(message.seq);
    const id = pageId(message.conv, n);
    return this.serial.run(`page:${id}`, async () => {
      const page = await MessagePageModel.findById(id).lean<PageDoc>().exec();
      if (page?.m.some((entry) => fromPageEntry(entry)._id === message._id)) return false;
      await pushToPage(id, n, message);
      return true;
    });
  }

  /**
   * Records a message in `owner`'s inbox entry for `other`. The preview moves only
   * forward (a message with a lower seq arriving late leaves the newer preview: see
   * encodeLast), and an incoming message adds one unread. With `repair`, an entry that
   * already reached this seq is left alone, so replaying a message after a crash cannot
   * count it twice; `written` then says whether the entry lacked it.
   */
  recordInInbox(owner: string, other: Party, message: StoredMessage, options: { incoming: boolean; repair?: boolean }): Promise<UnreadState & { written: boolean }> {
    const key = entryKey(other.id);
    const path = `e.${key}`;
    const last = encodeLast({ seq: message.seq, at: message.createdAt, from: message.from, preview: preview(message.content) });
    const inc: Record<string, number> = options.incoming ? { [`${path}.unread`]: 1, unreadTotal: 1, v: 1 } : { v: 1 };
    return this.serial.run(`inbox:${owner}`, async () => {
      if (options.repair) {
        // A resend: rare, so a read first is affordable.
        const current = await this.readEntry(owner, key);
        const seen = lastOf(current?.e?.[key]);
        if (seen && seen.seq >= message.seq) return { ...unreadStateOf(current, other.id), written: false };
      }
      const doc = await upsertRetryingOnce(() =>
        InboxModel.findOneAndUpdate(
          { _id: owner },
          {
            $set: { [`${path}.conv`]: message.conv, [`${path}.user`]: other.id, [`${path}.username`]: other.username },
            $max: { [`${path}.last`]: last },
            $inc: inc,
          },
          // No projection: FerretDB 1.x does not implement one on findAndModify.
          { upsert: true, returnDocument: 'after' },
        )
          .lean<InboxDoc>()
          .exec(),
      );
      this.badges.invalidate(owner);
      if (Object.keys(doc.e ?? {}).length > INBOX_KEEP + INBOX_SLACK) await this.trimInbox(owner, doc, key);
      return { ...unreadStateOf(doc, other.id), written: true };
    });
  }

  /**
   * Keeps an inbox document bounded: beyond INBOX_KEEP conversations, the oldest entries
   * leave it (read ones first; unread ones only past INBOX_MAX_UNREAD_KEPT, their count
   * leaving the total with them). The document is read and rewritten whole by every
   * message to its owner, so an inbox of 10,000 entries (2.5 MB) would cost each of those
   * messages tens of milliseconds in the engine's single writer. A conversation that left
   * stays whole (its history and read state live elsewhere); its next message brings it
   * back, and any member can still be reached by name. Runs once per INBOX_SLACK new
   * conversations, inside the inbox's write queue.
   */
  private async trimInbox(owner: string, doc: InboxDoc, justWritten: string): Promise<void> {
    const entries = Object.entries(doc.e ?? {})
      .filter(([k]) => k !== justWritten)
      .map(([k, entry]) => ({ k, unread: Math.max(0, entry.unread ?? 0), at: lastOf(entry)?.at.getTime() ?? 0 }))
      .sort((a, b) => a.at - b.at);
    let excess = entries.length + 1 - INBOX_KEEP;
    const leaving = entries.filter((e) => e.unread === 0).slice(0, excess);
    excess -= leaving.length;
    if (excess > 0) {
      const unreadKept = entries.filter((e) => e.unread > 0);
      leaving.push(...unreadKept.slice(0, Math.max(0, unreadKept.length - INBOX_MAX_UNREAD_KEPT)).slice(0, excess));
    }
    if (leaving.length === 0) return;
    const unreadLeaving = leaving.reduce((sum, e) => sum + e.unread, 0);
    await InboxModel.updateOne(
      { _id: owner },
      { $unset: Object.fromEntries(leaving.map((e) => [`e.${e.k}`, ''])), $inc: { unreadTotal: -unreadLeaving, v: 1 } },
    ).exec();
    this.badges.invalidate(owner);
  }

  /**
   * Notes on `owner`'s entry for `blockerId` that they blocked the owner (or no longer
   * do), so the owner's messages page stops showing their presence, as their
   * conversation page already does.
   */
  markBlockedBy(owner: string, blockerId: string, blocked: boolean): Promise<void> {
    const path = `e.${entryKey(blockerId)}.blockedMe`;
    return this.serial.run(`inbox:${owner}`, async () => {
      await upsertRetryingOnce(() =>
        InboxModel.updateOne({ _id: owner }, blocked ? { $set: { [path]: true } } : { $unset: { [path]: '' } }, { upsert: blocked }).exec(),
      );
    });
  }

  private readEntry(owner: string, key: string): Promise<InboxDoc | null> {
    return InboxModel.findById(owner, { unreadTotal: 1, v: 1, [`e.${key}`]: 1 }).lean<InboxDoc>().exec();
  }

  async unreadState(owner: string, otherUserId: string): Promise<UnreadState> {
    return unreadStateOf(await this.readEntry(owner, entryKey(otherUserId)), otherUserId);
  }

  /** The header badge: total unread and the inbox version. */
  unreadTotal(owner: string): Promise<{ total: number; v: number }> {
    return this.badges.get(owner, async () => {
      const doc = await InboxModel.findById(owner, { unreadTotal: 1, v: 1 }).lean<InboxDoc>().exec();
      return { total: Math.max(0, doc?.unreadTotal ?? 0), v: doc?.v ?? 0 };
    });
  }

  readInbox(owner: string): Promise<InboxDoc | null> {
    return InboxModel.findById(owner).lean<InboxDoc>().exec();
  }

  /**
   * Marks `owner`'s conversation with `other` read, when `upTo` (the newest seq the
   * reader has seen) reaches the inbox's last message; a newer message the reader has
   * not seen yet keeps the count, and the reader's next mark-read clears it.
   * Subtracts the unread it read rather than setting zero: a message counted meanwhile
   * (by another process) stays counted. Where a filter beyond `_id` is cheap (MongoDB),
   * the update also requires that many unread still to be there, so two processes marking
   * the same conversation read cannot both subtract; on FerretDB the filter would scan the
   * collection, and writes to one inbox are exclusive there anyway (see serial-writes.ts).
   */
  markRead(owner: string, otherUserId: string, upTo: number | undefined): Promise<UnreadState & { changed: boolean; lastSeq: number }> {
    const key = entryKey(otherUserId);
    const path = `e.${key}`;
    return this.serial.run(`inbox:${owner}`, async () => {
      const doc = await this.readEntry(owner, key);
      const entry = doc?.e?.[key];
      const lastSeq = lastOf(entry)?.seq ?? 0;
      const unread = entry?.unread ?? 0;
      if (!doc || unread <= 0 || (upTo !== undefined && upTo < lastSeq)) {
        return { ...unreadStateOf(doc, otherUserId), changed: false, lastSeq };
      }
      const guard = this.options.exclusiveWrites ? {} : { [`${path}.unread`]: { $gte: unread } };
      const updated = await InboxModel.findOneAndUpdate(
        { _id: owner, ...guard },
        { $inc: { [`${path}.unread`]: -unread, unreadTotal: -unread, v: 1 } },
        { returnDocument: 'after' },
      )
        .lean<InboxDoc>()
        .exec();
      // Another process cleared it first: nothing left to do.
      if (!updated) return { ...(await this.unreadState(owner, otherUserId)), changed: false, lastSeq };
      this.badges.invalidate(owner);
      return { ...unreadStateOf(updated, otherUserId), changed: true, lastSeq };
    });
  }

  /** Read receipts: how far `reader` has read the conversation. */
  advanceReadSeq(conv: string, reader: string, seq: number): Promise<void> {
    return this.serial.run(`conv:${conv}`, async () => {
      await ConversationModel.updateOne({ _id: conv }, { $max: { [`readSeq.${entryKey(reader)}`]: seq } }).exec();
    });
  }

  readConversation(conv: string): Promise<ConversationDoc | null> {
    return ConversationModel.findById(conv).lean<ConversationDoc>().exec();
  }

  /** The messages of some pages, each once (two processes repairing one resend could both push it). */
  private async readPages(conv: string, numbers: number[]): Promise<StoredMessage[]> {
    const pages = await Promise.all(numbers.map((n) => MessagePageModel.findById(pageId(conv, n)).lean<PageDoc>().exec()));
    const byId = new Map<string, StoredMessage>();
    for (const page of pages) {
      for (const entry of page?.m ?? []) {
        const m = fromPageEntry(entry);
        byId.set(m._id, m);
      }
    }
    return [...byId.values()];
  }

  /**
   * Up to `limit` (≤ PAGE_SIZE) messages, oldest first: the newest ones, those before
   * seq `before`, or those after seq `after`. One conversation read plus one or two page reads.
   */
  async history(conv: string, query: { before?: number; after?: number; limit?: number }): Promise<HistorySlice> {
    const limit = Math.min(query.limit ?? PAGE_SIZE, PAGE_SIZE);
    const doc = await this.readConversation(conv);
    const latestSeq = doc?.seq ?? 0;
    const base = { latestSeq, readSeq: doc?.readSeq ?? {} };
    if (!doc) return { ...base, messages: [], hasOlder: false, hasNewer: false };

    if (query.after !== undefined) {
      const after = query.after;
      const first = pageNumber(after + 1);
      const last = pageNumber(latestSeq);
      const numbers = [first, first + 1].filter((n) => n <= last);
      const found = (await this.readPages(conv, numbers)).filter((m) => m.seq > after).sort(bySeq);
      const messages = found.slice(0, limit);
      const readUpTo = numbers.at(-1) ?? first;
      return { ...base, messages, hasOlder: after > 0, hasNewer: found.length > limit || readUpTo < last };
    }

    const top = Math.min(query.before !== undefined ? query.before - 1 : latestSeq, latestSeq);
    if (top < 1) return { ...base, messages: [], hasOlder: false, hasNewer: false };
    const p = pageNumber(top);
    const numbers = p > 0 ? [p, p - 1] : [p];
    const found = (await this.readPages(conv, numbers)).filter((m) => m.seq <= top).sort(bySeq);
    const messages = found.slice(-limit);
    const lowestRead = numbers.at(-1)!;
    return { ...base, messages, hasOlder: found.length > limit || lowestRead > 0, hasNewer: false };
  }
}

