// Reads of messaging data, and the writes that are not part of a send (mark-read,
// blocking flags, trimming an inbox). Sends are written by group-commit.ts and the
// views derived from them by views.ts; reads here first wait for this process's own
// pending views of what they read, so a member sees their own process's messages at once.
// Writes to one document queue behind each other (db/serial-writes.ts).
import { createReadCache, type ReadCache } from '../db/read-cache.ts';
import { createSerialWrites, type SerialWrites } from '../db/serial-writes.ts';
import { upsertRetryingOnce } from '../db/upsert.ts';
import { received, type ConversationCounters, type ConversationCounts } from './counters.ts';
import {
  ConversationModel,
  entryKey,
  fromPageEntry,
  InboxModel,
  lastOf,
  MessageModel,
  MessagePageModel,
  pageEntries,
  pageEntryKey,
  pageId,
  pageNumber,
  PAGE_SIZE,
  unreadOf,
  unreadTotalOf,
  withChange,
  type ConversationDoc,
  type InboxDoc,
  type PageDoc,
  type StoredMessage,
} from './models.ts';
import type { Party, ViewWriter } from './views.ts';

export type { Party };

export interface UnreadState {
  /** The inbox version after the change: clients keep the highest they have seen. */
  v: number;
  total: number;
  /** Unread messages in this one conversation. */
  count: number;
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

/** Conversations an inbox document keeps (see trimInbox). */
export const INBOX_KEEP = 200;
/** Trimming waits for this many more, so it runs once per that many new conversations. */
const INBOX_SLACK = 40;
/** Unread conversations are kept past INBOX_KEEP, up to this many. */
const INBOX_MAX_UNREAD_KEPT = 1000;

export function unreadStateOf(doc: InboxDoc | null, otherUserId: string): UnreadState {
  return { v: doc?.v ?? 0, total: unreadTotalOf(doc), count: unreadOf(doc?.e?.[entryKey(otherUserId)]) };
}

/** A member's unread messages in a group: what they received there minus what they read (no per-member write per message). */
export function groupUnreadOf(counts: ConversationCounts, member: string): number {
  return Math.max(0, received(counts, member) - (counts.readN[entryKey(member)] ?? 0));
}

/** The groups an inbox lists (entries keyed by the group's conversation id). */
export function groupsOf(doc: InboxDoc | null | undefined): string[] {
  return Object.values(doc?.e ?? {}).flatMap((entry) => (entry.group === true && typeof entry.conv === 'string' ? [entry.conv] : []));
}

function bySeq(a: StoredMessage, b: StoredMessage): number {
  return a.seq - b.seq || (a._id < b._id ? -1 : 1);
}

export interface MessageStoreOptions {
  serial?: SerialWrites;
  views: ViewWriter;
  counters: ConversationCounters;
  /**
   * How long this process answers the header badge (unread total) from memory, in ms; 0
   * reads the inbox every time. This process's own inbox writes drop the remembered
   * value at once; another process's show within this time (and open tabs get them
   * live over their socket in any case).
   */
  badgeCacheMs?: number;
}

export class MessageStore {
  readonly serial: SerialWrites;
  readonly views: ViewWriter;
  readonly counters: ConversationCounters;
  /**
   * Inboxes as the header badge reads them, keyed by owner id (24 hex digits, so an id is
   * also the exact prefix to invalidate). A group's messages never write its members'
   * inboxes, so a busy group does not drop these: its part of the badge comes from the
   * counters (memory or Redis), not the engine.
   */
  private readonly badges: ReadCache;

  constructor(options: MessageStoreOptions) {
    this.serial = options.serial ?? createSerialWrites();
    this.views = options.views;
    this.counters = options.counters;
    this.badges = createReadCache({ ttlMs: options.badgeCacheMs ?? 0, maxEntries: 10_000 });
    // This process changed these inboxes: the badges it remembers are stale.
    this.views.onInboxWritten(({ owner }) => this.badges.invalidate(owner));
  }

  /** This process changed `owner`'s inbox outside the views (requests.ts): its remembered badge is stale. */
  forgetBadge(owner: string): void {
    this.badges.invalidate(owner);
  }

  findMessage(id: string): Promise<StoredMessage | null> {
    return MessageModel.findById(id).lean<StoredMessage>().exec();
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

  async readInbox(owner: string): Promise<InboxDoc | null> {
    await this.views.written({ owner });
    return InboxModel.findById(owner).lean<InboxDoc>().exec();
  }

  async unreadState(owner: string, otherUserId: string): Promise<UnreadState> {
    const doc = await this.readInbox(owner);
    return this.withGroups(owner, doc, unreadStateOf(doc, otherUserId));
  }

  /** Unread messages in the owner's groups, from the counters. */
  async groupUnread(owner: string, doc: InboxDoc | null | undefined, known?: { conv: string; counts: ConversationCounts }): Promise<number> {
    const counts = await Promise.all(groupsOf(doc).map((conv) => (conv === known?.conv ? known.counts : this.counters.current(conv))));
    return counts.reduce((sum, c) => sum + groupUnreadOf(c, owner), 0);
  }

  /** Adds the owner's groups to a total counted from their inbox's pair entries. */
  async withGroups<T extends { total: number }>(owner: string, doc: InboxDoc | null | undefined, state: T): Promise<T> {
    return { ...state, total: state.total + (await this.groupUnread(owner, doc)) };
  }

  /** The owner's inbox as the badge last read it (see `badges`). */
  badgeInbox(owner: string): Promise<InboxDoc | null> {
    return this.badges.get(owner, () => this.readInbox(owner));
  }

  /** Forgets the owner's remembered inbox: it changed (a group joined or left). */
  inboxChanged(owner: string): void {
    this.badges.invalidate(owner);
  }

  /** The header badge: total unread and the inbox version. `known`: counts of a group just written. */
  async unreadTotal(owner: string, known?: { conv: string; counts: ConversationCounts }): Promise<{ total: number; v: number }> {
    // A pass about to write this inbox would drop the remembered badge only after it.
    await this.views.written({ owner });
    const doc = await this.badgeInbox(owner);
    return { total: unreadTotalOf(doc) + (await this.groupUnread(owner, doc, known)), v: doc?.v ?? 0 };
  }

  /**
   * Marks `owner`'s conversation `conv` with `other` read, when `upTo` (the newest seq
   * the reader has seen) reaches the newest stored message; a newer message the reader
   * has not seen yet keeps the count, and the reader's next mark-read clears it. The
   * counters' owner decides how many received messages that makes read in one step
   * (counters.ts), and the inbox entry and the conversation take that absolute number
   * with `$max`: two devices marking read on two processes cannot clear a message
   * neither has seen, nor subtract twice.
   */
  async markRead(owner: string, other: string, conv: string, upTo: number | undefined): Promise<UnreadState & { changed: boolean; lastSeq: number; readTo: number }> {
    await this.views.written({ owner, conv });
    const result = await this.counters.markRead(conv, owner, upTo);
    // Never past the conversation's last message: a forged upTo would show the other
    // member their future messages as seen.
    const readTo = Math.min(upTo ?? result.last, result.last);
    if (!result.changed) return { ...(await this.unreadState(owner, other)), changed: false, lastSeq: result.last, readTo };
    const key = entryKey(owner);
    const [, doc] = await Promise.all([
      this.serial.run(`conv:${conv}`, () =>
        ConversationModel.updateOne({ _id: conv }, { $max: { [`readN.${key}`]: result.readN, [`readSeq.${key}`]: readTo } }).exec(),
      ),
      this.serial.run(`inbox:${owner}`, () =>
        InboxModel.findOneAndUpdate({ _id: owner }, { $max: { [`e.${entryKey(other)}.k`]: result.readN }, $inc: { v: 1 } }, { returnDocument: 'after' })
          .lean<InboxDoc>()
          .exec(),
      ),
    ]);
    this.badges.invalidate(owner);
    return { ...(await this.withGroups(owner, doc, unreadStateOf(doc, other))), changed: true, lastSeq: result.last, readTo };
  }

  /**
   * Keeps an inbox document bounded: beyond INBOX_KEEP conversations, the oldest entries
   * leave it (read ones first; unread ones only past INBOX_MAX_UNREAD_KEPT). A
   * conversation that left stays whole (its history and counts live in the conversation);
   * its next message brings the entry back with its absolute counts. The removal is
   * conditional on the version read (`v`): a message that landed meanwhile makes it
   * skip, and the next message's pass tries again.
   */
  async trimInbox(owner: string, doc: InboxDoc): Promise<void> {
    // A group's entry is its membership, not a copy: it stays (groups.ts).
    const all = Object.entries(doc.e ?? {}).filter(([, entry]) => entry.group !== true);
    if (all.length <= INBOX_KEEP + INBOX_SLACK) return;
    const entries = all
      .map(([k, entry]) => ({ k, unread: unreadOf(entry), at: lastOf(entry)?.at.getTime() ?? 0 }))
      .sort((a, b) => a.at - b.at);
    let excess = entries.length - INBOX_KEEP;
    const leaving = entries.filter((e) => e.unread === 0).slice(0, excess);
    excess -= leaving.length;
    if (excess > 0) {
      const unreadKept = entries.filter((e) => e.unread > 0);
      leaving.push(...unreadKept.slice(0, Math.max(0, unreadKept.length - INBOX_MAX_UNREAD_KEPT)).slice(0, excess));
    }
    if (leaving.length === 0) return;
    await this.serial.run(`inbox:${owner}`, () =>
      InboxModel.updateOne({ _id: owner, v: doc.v ?? 0 }, { $unset: Object.fromEntries(leaving.map((e) => [`e.${e.k}`, ''])), $inc: { v: 1 } }).exec(),
    );
    this.badges.invalidate(owner);
  }

  async readConversation(conv: string): Promise<ConversationDoc | null> {
    await this.views.written({ conv });
    return ConversationModel.findById(conv).lean<ConversationDoc>().exec();
  }

  /** The messages of some pages, each once. */
  private async readPages(conv: string, numbers: number[]): Promise<StoredMessage[]> {
    const pages = await Promise.all(numbers.map((n) => MessagePageModel.findById(pageId(conv, n)).lean<PageDoc>().exec()));
    const byId = new Map<string, StoredMessage>();
    for (const page of pages) {
      for (const entry of pageEntries(page)) {
        // With its latest edit or deletion, kept beside it (edits.ts).
        const stored = fromPageEntry(entry);
        const m = withChange(stored, page?.x?.[pageEntryKey(stored.seq)]);
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
    const latestSeq = doc?.last ?? doc?.seq ?? 0;
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
