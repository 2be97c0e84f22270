// Brings a database written before boards and editing up to date, once, at start:
// - every post without a board belongs to the default board (read as such: posts are
//   not rewritten one by one; see boards-model.ts, legacy_seqs), listed in its pages in
//   order of latest activity;
// - every reply gets its `reply_refs` entry, so `/replies/:id/edit` can find it.
// Both are bulk inserts (fast on either engine); a run cut short is finished by the next
// start, and a concurrent start by another process leaves it to whoever claimed it.
import type { Model } from 'mongoose';
import type { Logger } from '../log.ts';
import { isDuplicateKey } from '../db/errors.ts';
import {
  BoardModel,
  BoardPageModel,
  boardPageId,
  BUCKET_SIZE,
  DEFAULT_BOARD_ID,
  LegacySeqModel,
  MigrationModel,
  type BoardEntry,
} from './boards-model.ts';
import { ensureDefaultBoard } from './boards.ts';
import { feedEntry } from './feed.ts';
import { PostModel, ReplyPageModel, ReplyRefModel } from './model.ts';

const MIGRATION_ID = 'boards-v1';
/** A claim older than this was left by a process that died: take it over. */
const STALE_CLAIM_MS = 15 * 60_000;
const BATCH = 1000;

async function claim(): Promise<boolean> {
  const now = new Date();
  try {
    await MigrationModel.create({ _id: MIGRATION_ID, state: 'running', startedAt: now });
    return true;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const existing = await MigrationModel.findById(MIGRATION_ID).lean().exec();
  if (!existing || existing.state === 'done' || now.getTime() - existing.startedAt.getTime() < STALE_CLAIM_MS) return false;
  const taken = await MigrationModel.updateOne({ _id: MIGRATION_ID, startedAt: existing.startedAt }, { $set: { startedAt: now } }).exec();
  return taken.matchedCount === 1;
}

/** Inserts what is not there yet: a re-run after a cut-short one meets its own earlier inserts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function insertMissing(model: Model<any>, docs: object[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await model.insertMany(docs, { ordered: false });
  } catch (err) {
    if (!isDuplicateKey(err) && !(err as { writeErrors?: unknown[] }).writeErrors) throw err;
  }
}

async function listLegacyPosts(log: Logger): Promise<void> {
  // Posts made before boards have neither field. A scan, once.
  const posts = await PostModel.find(
    { board: { $exists: false }, activitySeq: { $exists: false } },
    { title: 1, authorName: 1, createdAt: 1, lastActivityAt: 1, replyCount: 1 },
  )
    .sort({ lastActivityAt: 1, _id: 1 })
    .lean()
    .exec();
  if (posts.length === 0) return;
  const known = new Set((await LegacySeqModel.find({}, { _id: 1 }).lean().exec()).map((d) => d._id.toString()));
  const fresh = posts.filter((p) => !known.has(p._id.toString()));
  if (fresh.length === 0) return;
  // The numbers follow on from whatever the default board has already given out.
  const board = await BoardModel.findByIdAndUpdate(DEFAULT_BOARD_ID, { $inc: { seq: fresh.length, postCount: fresh.length } }, { returnDocument: 'after' })
    .lean()
    .exec();
  const first = board!.seq - fresh.length + 1;
  const entries: BoardEntry[] = fresh.map((post, i) => ({ ...feedEntry(post), seq: first + i }));
  const buckets = new Map<number, BoardEntry[]>();
  for (const entry of entries) {
    const bucket = Math.floor(entry.seq / BUCKET_SIZE);
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), entry]);
  }
  // Buckets from `first` on are new, but the first may be shared with posts made since.
  for (const [bucket, bucketEntries] of buckets) {
    const id = boardPageId(DEFAULT_BOARD_ID.toString(), bucket);
    const existing = await BoardPageModel.findById(id).lean().exec();
    if (existing) await BoardPageModel.updateOne({ _id: id }, { $push: { entries: { $each: bucketEntries } }, $inc: { version: 1 } }).exec();
    else await insertMissing(BoardPageModel, [{ _id: id, entries: bucketEntries, version: 1 }]);
  }
  for (let i = 0; i < entries.length; i += BATCH) {
    await insertMissing(LegacySeqModel, entries.slice(i, i + BATCH).map((e) => ({ _id: e.postId, seq: e.seq })));
  }
  const last = fresh.at(-1)!;
  await BoardModel.updateOne(
    { _id: DEFAULT_BOARD_ID, $or: [{ lastActivityAt: { $exists: false } }, { lastActivityAt: { $lt: last.lastActivityAt } }] },
    { $set: { lastActivityAt: last.lastActivityAt, lastPostId: last._id.toString(), lastPostTitle: last.title } },
  ).exec();
  log.info({ posts: fresh.length }, 'boards: existing posts listed in the default board');
}

async function indexLegacyReplies(log: Logger): Promise<void> {
  let count = 0;
  for await (const page of ReplyPageModel.find({}, { replies: 1 }).lean().cursor({ batchSize: 200 })) {
    const [postId, pageNo] = page._id.split(':');
    await insertMissing(
      ReplyRefModel,
      page.replies.map((r) => ({ _id: r._id, postId, page: Number(pageNo) })),
    );
    count += page.replies.length;
  }
  if (count > 0) log.info({ replies: count }, 'boards: existing replies indexed for editing');
}

export async function migrateForum(log: Logger): Promise<void> {
  await ensureDefaultBoard();
  if (!(await claim())) return;
  await listLegacyPosts(log);
  await indexLegacyReplies(log);
  await MigrationModel.updateOne({ _id: MIGRATION_ID }, { $set: { state: 'done', finishedAt: new Date() } }).exec();
}
