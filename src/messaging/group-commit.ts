// Group commit: sends that arrive while a batch is being written wait here and are
// written together as the next batch, one batch at a time per process:
//
//   1. each conversation in the batch takes a range of seqs from its counters (memory,
//      or one Redis round trip: counters.ts);
//   2. the batch's journal document is inserted (its message ids and seq ranges), so a
//      start after a crash finds a batch whose views were not written (repair.ts);
//   3. every message is inserted by one insertMany, unordered: a message whose `_id`
//      (sender + client id) is stored already is refused alone, as a duplicate, and the
//      others are stored;
//   4. the counts are settled and the batch's views handed to the view writer (views.ts),
//      which writes them behind it; the sends are answered: stored, durably, once step 3
//      has answered.
//
// A lone message on a quiet server starts a batch at once. The queue is bounded, by
// count and by how long a new send would wait in it: past that, a send is refused at
// once as busy, with a time to retry after, rather than queued for seconds.
import crypto from 'node:crypto';
import { MongoBulkWriteError } from 'mongodb';
import type { ConversationCounters, ConversationCounts } from './counters.ts';
import { MessageBatchModel, MessageModel, type StoredMessage } from './models.ts';
import type { Party, ViewWriter } from './views.ts';

export type Unsequenced = Omit<StoredMessage, 'seq'>;

export interface SendItem {
  message: Unsequenced;
  sender: Party;
  recipient: Party;
}

export type Committed = { status: 'stored'; message: StoredMessage; counts: ConversationCounts } | { status: 'duplicate' };

/** The queue is full: nothing was stored; try again after `retryAfterMs`. */
export class BusyError extends Error {
  override name = 'BusyError';
  constructor(readonly retryAfterMs: number) {
    super(`send queue full: retry after ${retryAfterMs} ms`);
  }
}

export interface GroupCommitOptions {
  counters: ConversationCounters;
  views: ViewWriter;
  /** Messages per batch at most. */
  maxBatch?: number;
  /** Sends waiting at most; past it every send is refused as busy. */
  maxQueue?: number;
  /** A send that would wait longer than this (estimated from recent batches) is refused as busy. */
  maxWaitMs?: number;
}

/** Below this many waiting, nothing is refused on an estimate (a burst from a quiet start). */
const ALWAYS_QUEUED = 32;
const RETRY_AFTER_MIN_MS = 100;
const RETRY_AFTER_MAX_MS = 5000;

interface Waiting extends SendItem {
  resolve: (result: Committed) => void;
  reject: (err: unknown) => void;
}

/** A batch that failed part-way: some of its messages may be stored. Settled before the next batch. */
interface FailedBatch {
  batchId: string;
  items: SendItem[];
  seqs: Map<string, number>;
  convs: { conv: string; to: number }[];
}

export function batchIdPrefix(): string {
  return `${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
}

export class GroupCommit {
  private readonly queue: Waiting[] = [];
  private running = false;
  private batches = 0;
  private readonly prefix = batchIdPrefix();
  private readonly failed: FailedBatch[] = [];
  /** Messages stored per ms while writing, smoothed over recent batches. */
  private rate = 1;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly maxWaitMs: number;
  /** Messages that a failed batch did store, found by the repair before the next batch: to deliver. */
  onRepaired: ((messages: StoredMessage[]) => void) | undefined;

  constructor(private readonly options: GroupCommitOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxQueue = options.maxQueue ?? 2000;
    this.maxWaitMs = options.maxWaitMs ?? 100;
  }

  /** Sends waiting or being written. */
  get size(): number {
    return this.queue.length + this.inFlight;
  }

  /** How long a send queued now would wait, from the recent rate. */
  estimatedWaitMs(): number {
    return this.size / this.rate;
  }

  /** Why a send must be refused now, if it must: the time to retry after, in ms. */
  busy(): number | undefined {
    const waiting = this.size;
    const wait = this.estimatedWaitMs();
    if (waiting < this.maxQueue && (waiting < ALWAYS_QUEUED || wait <= this.maxWaitMs)) return undefined;
    // Spread the retries: a crowd refused together should not come back together.
    const base = Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, wait));
    return Math.round(base * (0.75 + Math.random() / 2));
  }

  submit(item: SendItem): Promise<Committed> {
    const retryAfter = this.busy();
    if (retryAfter !== undefined) return Promise.reject(new BusyError(retryAfter));
    return new Promise<Committed>((resolve, reject) => {
      this.queue.push({ ...item, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Sends arriving in this same tick join the first batch.
        queueMicrotask(() => void this.loop());
      }
    });
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.inFlight = batch.length;
        const started = performance.now();
        try {
          await this.repairFailed();
          const results = await this.commit(batch);
          batch.forEach((w, i) => w.resolve(results[i]!));
        } catch (err) {
          for (const w of batch) w.reject(err);
        } finally {
          this.inFlight = 0;
          const ms = Math.max(0.5, performance.now() - started);
          // Smoothed, and only from batches big enough to say something about the rate.
          if (batch.length >= 4 || this.queue.length > 0) this.rate = 0.7 * this.rate + 0.3 * (batch.length / ms);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: SendItem[]): Promise<Committed[]> {
    const { counters } = this.options;
    // Sorts in the order of the batches: the prefix starts with the process's start time.
    const batchId = `${this.prefix}-${String(++this.batches).padStart(12, '0')}`;
    const byConv = new Map<string, number[]>();
    batch.forEach((item, i) => {
      const list = byConv.get(item.message.conv) ?? [];
      list.push(i);
      byConv.set(item.message.conv, list);
    });
    const seqs = new Map<string, number>();
    const convs: { conv: string; to: number }[] = [];
    await Promise.all(
      [...byConv].map(async ([conv, indexes]) => {
        const first = await counters.reserve(conv, indexes.length);
        indexes.forEach((index, k) => seqs.set(batch[index]!.message._id, first + k));
        convs.push({ conv, to: first + indexes.length - 1 });
      }),
    );
    const docs: StoredMessage[] = batch.map((item) => ({ ...item.message, seq: seqs.get(item.message._id)! }));
    let duplicates: Set<number>;
    try {
      await MessageBatchModel.collection.insertOne({ _id: batchId as never, at: new Date(), ids: docs.map((d) => d._id), seqs: docs.map((d) => d.seq), convs });
      duplicates = await insertAll(docs);
    } catch (err) {
      this.failed.push({ batchId, items: batch, seqs, convs });
      throw err;
    }
    const stored = docs.filter((_, i) => !duplicates.has(i));
    const counts = await this.settle(batchId, convs, stored);
    this.options.views.add({ batchId, messages: stored, parties: partiesOf(batch), counts });
    return docs.map((doc, i) => (duplicates.has(i) ? { status: 'duplicate' as const } : { status: 'stored' as const, message: doc, counts: counts.get(doc.conv)! }));
  }

  private async settle(batchId: string, convs: { conv: string; to: number }[], stored: StoredMessage[]): Promise<Map<string, ConversationCounts>> {
    const counts = new Map<string, ConversationCounts>();
    await Promise.all(
      convs.map(async ({ conv, to }) => {
        counts.set(conv, await this.options.counters.settle(batchId, conv, stored.filter((m) => m.conv === conv), to));
      }),
    );
    return counts;
  }

  /**
   * A batch that failed part-way (the database went away during it): whatever of it was
   * stored is counted and its views written before any later batch, so counts never
   * skip it. Until that succeeds, every later batch fails too.
   */
  private async repairFailed(): Promise<void> {
    while (this.failed.length > 0) {
      const { batchId, items, seqs, convs } = this.failed[0]!;
      const found = await Promise.all(items.map((item) => MessageModel.collection.findOne({ _id: item.message._id as never })));
      // Only those stored with this batch's seq: an older copy of a resend is not ours.
      const stored = found.filter((doc): doc is NonNullable<typeof doc> => doc !== null && doc.seq === seqs.get(String(doc._id))) as unknown as StoredMessage[];
      const counts = await this.settle(batchId, convs, stored);
      this.options.views.add({ batchId, messages: stored, parties: partiesOf(items), counts });
      this.failed.shift();
      if (stored.length > 0) this.onRepaired?.(stored);
    }
  }
}

function partiesOf(items: SendItem[]): Map<string, Party> {
  const parties = new Map<string, Party>();
  for (const item of items) {
    parties.set(item.sender.id, { id: item.sender.id, username: item.sender.username });
    parties.set(item.recipient.id, { id: item.recipient.id, username: item.recipient.username });
  }
  return parties;
}

/** Inserts every message; returns the indexes refused as duplicates (stored before). */
async function insertAll(docs: StoredMessage[]): Promise<Set<number>> {
  try {
    await MessageModel.collection.insertMany(docs as never[], { ordered: false });
    return new Set();
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const raw = err.writeErrors as unknown;
    const errors = (Array.isArray(raw) ? raw : [raw]) as { index: number; code: number }[];
    if (errors.length === 0 || errors.some((e) => e.code !== 11000)) throw err;
    return new Set(errors.map((e) => e.index));
  }
}
