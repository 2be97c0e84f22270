// The views derived from stored messages, written behind them: conversation counters,
// history pages and inbox entries. A batch's messages are stored (and acknowledged)
// first; what derives from them waits here, merged per document with whatever else is
// waiting for it, and is written in one pass as soon as the previous pass is done: one
// update per touched document however many messages touched it meanwhile. A lone
// message on a quiet server is written at once, never held back.
//
// Every value written is absolute and written with `$max` or `$set` by key (counts from
// counters.ts, page entries by seq, previews by encodeLast), so a pass that is repeated
// (a repair after a crash) or that crosses another process's changes nothing twice.
//
// Readers on this process wait for the pass that writes what they read (`written`), so
// they see their own process's messages at once; another process's show once its pass
// lands: a few milliseconds, at most one pass behind (bounded by the store timeout).
import type { Logger } from '../log.ts';
import type { SerialWrites } from '../db/serial-writes.ts';
import { isDuplicateKey } from '../db/errors.ts';
import { received, type ConversationCounts } from './counters.ts';
import {
  ConversationModel,
  encodeLast,
  entryKey,
  InboxModel,
  isGroupConversation,
  MessageBatchModel,
  MessagePageModel,
  pageEntryKey,
  pageId,
  pageNumber,
  toPageEntry,
  type InboxDoc,
  type StoredMessage,
} from './models.ts';
import { preview } from './preview.ts';

/** Under FerretDB 1.24's limit: an update command of 100 statements or more never returns. */
export const MAX_STATEMENTS = 90;
const RETRY_FIRST_MS = 50;
const RETRY_LONGEST_MS = 2000;
/** Inbox reads after a pass run this many at a time, leaving the driver's other connections to the sends. */
const READ_CONCURRENCY = 2;

export interface Party {
  id: string;
  username: string;
}

interface PendingConv {
  participants: string[];
  counts: ConversationCounts;
  at: Date;
  /** A group's newest message (encodeLast): the group's preview lives in its conversation. */
  last?: string;
}

const laterLast = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined || a > b ? a : b);

interface PendingPage {
  conv: string;
  n: number;
  entries: Map<string, string>;
}

interface PendingEntry {
  conv: string;
  user: string;
  username: string;
  last: string;
  r: number;
  k: number;
  /** Messages the owner sent in it: none makes it a request (models.ts isRequest). */
  o: number;
  /** A message to the owner is in it: tell their tabs the new count once written. */
  incoming: boolean;
}

interface Pending {
  convs: Map<string, PendingConv>;
  pages: Map<string, PendingPage>;
  /** owner → entryKey(other) → entry */
  inboxes: Map<string, Map<string, PendingEntry>>;
  journals: Set<string>;
}

const emptyPending = (): Pending => ({ convs: new Map(), pages: new Map(), inboxes: new Map(), journals: new Set() });

function maxRecord(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = Math.max(out[key] ?? 0, value);
  return out;
}

function mergeCounts(a: ConversationCounts, b: ConversationCounts): ConversationCounts {
  return { seq: Math.max(a.seq, b.seq), last: Math.max(a.last, b.last), n: Math.max(a.n, b.n), sent: maxRecord(a.sent, b.sent), readN: maxRecord(a.readN, b.readN) };
}

/** What a pass wrote to an inbox: its document after, and whose messages arrived in it. */
export interface InboxWritten {
  owner: string;
  doc: InboxDoc;
  /** Users whose messages to the owner this pass recorded. */
  from: string[];
}

export interface ViewsOptions {
  serial: SerialWrites;
  log: Logger;
  /** After each pass, per inbox that received messages. */
  onInboxWritten?: (written: InboxWritten) => void;
}

export interface BatchViews {
  batchId?: string;
  messages: StoredMessage[];
  /** Every sender and recipient of the messages, by id. */
  parties: Map<string, Party>;
  /** Counts after the batch, per conversation it touched. */
  counts: Map<string, ConversationCounts>;
}

export class ViewWriter {
  private pending = emptyPending();
  private flying = emptyPending();
  private running: Promise<void> | undefined;
  private passDone: { promise: Promise<void>; resolve: () => void };
  private retryMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastPassMs = 0;
  private readonly inboxListeners: ((written: InboxWritten) => void)[] = [];

  constructor(private readonly options: ViewsOptions) {
    this.passDone = ViewWriter.signal();
    if (options.onInboxWritten) this.inboxListeners.push(options.onInboxWritten);
  }

  /** Called after each pass, per inbox it wrote. */
  onInboxWritten(listener: (written: InboxWritten) => void): void {
    this.inboxListeners.push(listener);
  }

  private static signal() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }

  /** Documents waiting to be written or being written (diagnostics, tests). */
  get backlog(): number {
    const size = (p: Pending) => p.convs.size + p.pages.size + p.inboxes.size;
    return size(this.pending) + size(this.flying);
  }

  /** Queues what derives from a stored batch and starts a pass if none is running. */
  add(batch: BatchViews): void {
    const { pending } = this;
    if (batch.batchId) pending.journals.add(batch.batchId);
    for (const m of batch.messages) {
      const counts = batch.counts.get(m.conv);
      if (!counts) continue;
      const conv = pending.convs.get(m.conv);
      const participants = [m.from, m.to].sort();
      const last = encodeLast({ seq: m.seq, at: m.createdAt, from: m.from, preview: preview(m.content) });
      // A group's members' inboxes are not written per message: its preview goes here.
      const groupLast = isGroupConversation(m.conv) ? last : undefined;
      pending.convs.set(
        m.conv,
        conv ? { ...conv, counts: mergeCounts(conv.counts, counts), last: laterLast(conv.last, groupLast) } : { participants, counts, at: m.createdAt, last: groupLast },
      );

      const n = pageNumber(m.seq);
      const id = pageId(m.conv, n);
      const page = pending.pages.get(id) ?? { conv: m.conv, n, entries: new Map<string, string>() };
      page.entries.set(pageEntryKey(m.seq), toPageEntry(m));
      pending.pages.set(id, page);

      const sender = batch.parties.get(m.from);
      const recipient = batch.parties.get(m.to);
      if (sender && recipient) {
        const sent = (owner: string) => counts.sent[entryKey(owner)] ?? 0;
        this.addEntry(m.to, sender, { conv: m.conv, last, r: received(counts, m.to), k: counts.readN[entryKey(m.to)] ?? 0, o: sent(m.to), incoming: true });
        this.addEntry(m.from, recipient, { conv: m.conv, last, r: received(counts, m.from), k: counts.readN[entryKey(m.from)] ?? 0, o: sent(m.from), incoming: false });
      }
    }
    this.kick();
  }

  private addEntry(owner: string, other: Party, e: { conv: string; last: string; r: number; k: number; o: number; incoming: boolean }, into = this.pending): void {
    const entries = into.inboxes.get(owner) ?? new Map<string, PendingEntry>();
    const key = entryKey(other.id);
    const was = entries.get(key);
    entries.set(key, {
      conv: e.conv,
      user: other.id,
      username: other.username,
      last: was && was.last > e.last ? was.last : e.last,
      r: Math.max(was?.r ?? 0, e.r),
      k: Math.max(was?.k ?? 0, e.k),
      o: Math.max(was?.o ?? 0, e.o),
      incoming: (was?.incoming ?? false) || e.incoming,
    });
    into.inboxes.set(owner, entries);
  }

  /** Resolves once nothing waiting or being written touches this conversation / inbox. */
  async written(key: { conv?: string; owner?: string }, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const touches = (p: Pending) =>
      (key.conv !== undefined && p.convs.has(key.conv)) || (key.owner !== undefined && p.inboxes.has(key.owner));
    // A database that is away fails every pass: the reader then reads what is there.
    while ((touches(this.pending) || touches(this.flying)) && Date.now() < deadline) {
      // Someone is waiting: the next pass starts without its rest.
      if (touches(this.pending) && this.retryMs === 0) this.kick(true);
      await this.passDone.promise;
    }
  }

  /** Writes everything waiting now (shutdown): resolves once written or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.backlog > 0 && Date.now() < deadline) {
      this.kick(true);
      await Promise.race([this.passDone.promise, new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
    }
  }

  private kick(now = false): void {
    if (this.running) return;
    if (this.timer) {
      if (!now) return;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const empty = this.pending.convs.size + this.pending.pages.size + this.pending.inboxes.size + this.pending.journals.size === 0;
    if (empty) return;
    this.running = this.pass().finally(() => {
      this.running = undefined;
      const done = this.passDone;
      this.passDone = ViewWriter.signal();
      done.resolve();
      // After a failure, back off; after a pass, rest as long as it took, so that passes
      // use at most half of the engine's time and the inserts of the sends that are
      // waiting for their acknowledgement get the rest. The next pass then takes more
      // messages per document: the busier, the fewer writes per message.
      const rest = this.retryMs > 0 ? this.retryMs : this.lastPassMs;
      if (rest < 1) return this.kick();
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, rest);
    });
  }

  private async pass(): Promise<void> {
    const started = performance.now();
    this.flying = this.pending;
    this.pending = emptyPending();
    const batch = this.flying;
    try {
      const written = await this.write(batch);
      this.retryMs = 0;
      this.lastPassMs = performance.now() - started;
      this.flying = emptyPending();
      for (const w of written) for (const listener of this.inboxListeners) listener(w);
    } catch (err) {
      // Kept, merged under whatever arrived meanwhile, and tried again shortly.
      this.flying = emptyPending();
      this.merge(batch);
      this.retryMs = Math.min(RETRY_LONGEST_MS, Math.max(RETRY_FIRST_MS, this.retryMs * 2));
      this.options.log.warn({ reason: (err as Error).message }, 'messaging views not written; retrying');
    }
  }

  private merge(from: Pending): void {
    const into = this.pending;
    for (const id of from.journals) into.journals.add(id);
    for (const [conv, c] of from.convs) {
      const now = into.convs.get(conv);
      into.convs.set(conv, now ? { ...now, counts: mergeCounts(now.counts, c.counts), last: laterLast(now.last, c.last) } : c);
    }
    for (const [id, page] of from.pages) {
      const now = into.pages.get(id);
      if (!now) into.pages.set(id, page);
      else for (const [k, v] of page.entries) if (!now.entries.has(k)) now.entries.set(k, v);
    }
    for (const [owner, entries] of from.inboxes) {
      for (const e of entries.values()) this.addEntry(owner, { id: e.user, username: e.username }, e, into);
    }
  }

  private async write(p: Pending): Promise<InboxWritten[]> {
    const keys = [...[...p.convs.keys()].map((c) => `conv:${c}`), ...[...p.pages.keys()].map((id) => `page:${id}`), ...[...p.inboxes.keys()].map((o) => `inbox:${o}`)];
    // One command at a time: the driver's other connections stay free for the inserts
    // of the sends waiting for their acknowledgement.
    const written = await this.options.serial.runMany(keys, async () => {
      await writeConversations(p.convs);
      await writePages(p.pages);
      return writeInboxes(p.inboxes);
    });
    // Only once every view of their batches is written: a start finds the rest (repair.ts).
    if (p.journals.size > 0) await MessageBatchModel.deleteMany({ _id: { $in: [...p.journals] } }).exec();
    return written;
  }
}

async function bulkInChunks(run: (ops: object[]) => Promise<unknown>, ops: object[]): Promise<void> {
  for (let i = 0; i < ops.length; i += MAX_STATEMENTS) {
    const chunk = ops.slice(i, i + MAX_STATEMENTS);
    try {
      await run(chunk);
    } catch (err) {
      // Two processes' upserts of one new document (MongoDB): the loser's write is an
      // update the second time, and every statement is idempotent.
      if (!isDuplicateKey(err) && !hasOnlyDuplicates(err)) throw err;
      await run(chunk);
    }
  }
}

function hasOnlyDuplicates(err: unknown): boolean {
  const errors = (err as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(errors) ? errors : errors ? [errors] : [];
  return list.length > 0 && list.every((e) => e.code === 11000);
}

function writeConversations(convs: Map<string, PendingConv>): Promise<void> {
  const ops = [...convs].map(([conv, c]) => {
    const max: Record<string, number | string> = { seq: c.counts.seq, last: c.counts.last, n: c.counts.n };
    for (const [key, value] of Object.entries(c.counts.sent)) max[`sent.${key}`] = value;
    for (const [key, value] of Object.entries(c.counts.readN)) max[`readN.${key}`] = value;
    if (c.last !== undefined) max.lastMsg = c.last;
    return {
      updateOne: {
        filter: { _id: conv },
        update: { $max: max, $set: { updatedAt: new Date() }, $setOnInsert: { participants: c.participants, createdAt: c.at } },
        upsert: true,
      },
    };
  });
  return bulkInChunks((chunk) => ConversationModel.collection.bulkWrite(chunk as never, { ordered: false }), ops);
}

function writePages(pages: Map<string, PendingPage>): Promise<void> {
  const ops = [...pages].map(([id, page]) => ({
    updateOne: {
      filter: { _id: id },
      update: { $set: Object.fromEntries([...page.entries].map(([k, v]) => [`s.${k}`, v])), $setOnInsert: { conv: page.conv, n: page.n } },
      upsert: true,
    },
  }));
  return bulkInChunks((chunk) => MessagePageModel.collection.bulkWrite(chunk as never, { ordered: false }), ops);
}

/**
 * The inboxes in bulk; then, for those that received messages, the document after, read
 * by `_id`, whose totals go to the owner's open tabs (a read does not wait for SQLite's
 * one writer, an update does).
 */
async function writeInboxes(inboxes: Map<string, Map<string, PendingEntry>>): Promise<InboxWritten[]> {
  const ops: object[] = [];
  const received = new Map<string, string[]>();
  for (const [owner, entries] of inboxes) {
    const set: Record<string, unknown> = {};
    const max: Record<string, unknown> = {};
    const from: string[] = [];
    for (const [key, e] of entries) {
      const path = `e.${key}`;
      set[`${path}.conv`] = e.conv;
      set[`${path}.user`] = e.user;
      set[`${path}.username`] = e.username;
      max[`${path}.last`] = e.last;
      max[`${path}.r`] = e.r;
      max[`${path}.k`] = e.k;
      max[`${path}.o`] = e.o;
      if (e.incoming) from.push(e.user);
    }
    received.set(owner, from);
    ops.push({ updateOne: { filter: { _id: owner }, update: { $set: set, $max: max, $inc: { v: 1 } }, upsert: true } });
  }
  await bulkInChunks((chunk) => InboxModel.collection.bulkWrite(chunk as never, { ordered: false }), ops);
  const written: InboxWritten[] = [];
  const owners = [...received];
  for (let i = 0; i < owners.length; i += READ_CONCURRENCY) {
    const slice = owners.slice(i, i + READ_CONCURRENCY);
    const docs = await Promise.all(slice.map(([owner, from]) => (from.length > 0 ? InboxModel.collection.findOne({ _id: owner as never }) : null)));
    slice.forEach(([owner, from], j) => written.push({ owner, doc: (docs[j] ?? { _id: owner }) as unknown as InboxDoc, from }));
  }
  return written;
}
