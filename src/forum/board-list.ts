// Each board's posts, newest activity first, in buckets read by `_id` (boards-model.ts).
// Writers hold the forum write queue (service.ts); the versioned writes keep processes
// on MongoDB, which hold no common lock, from overwriting each other.
import type mongoose from 'mongoose';
import type { FeedEntry } from './model.ts';
import { PostModel } from './model.ts';
import { BoardModel, BoardPageModel, boardPageId, BUCKET_SIZE, bucketOf, LegacySeqModel, type BoardEntry } from './boards-model.ts';
import { updateVersioned } from './versioned.ts';

interface BoardPageDoc {
  entries: BoardEntry[];
  version?: number | null;
}

/** Most buckets one page may read: a run of buckets emptied by bumped posts ends the page early. */
const MAX_BUCKETS_PER_PAGE = 40;

function putEntry(boardId: string, entry: BoardEntry): Promise<boolean> {
  return updateVersioned<BoardPageDoc>(BoardPageModel, boardPageId(boardId, bucketOf(entry.seq)), (doc) => ({
    entries: [...(doc?.entries ?? []).filter((e) => e.postId !== entry.postId || e.seq !== entry.seq), entry],
  }));
}

function dropEntry(boardId: string, postId: string, seq: number): Promise<boolean> {
  return updateVersioned<BoardPageDoc>(BoardPageModel, boardPageId(boardId, bucketOf(seq)), (doc) => {
    const entries = doc?.entries ?? [];
    const kept = entries.filter((e) => e.postId !== postId || e.seq !== seq);
    return kept.length === entries.length ? null : { entries: kept };
  });
}

/** A post's number in its board before this write: its own field, or the migration's record. */
async function previousSeq(post: { activitySeq?: number | null }, postId: string): Promise<number | undefined> {
  if (typeof post.activitySeq === 'number') return post.activitySeq;
  const legacy = await LegacySeqModel.findById(postId).lean().exec();
  return legacy?.seq;
}

/**
 * Puts a post at the top of its board: a new post, or one that just got a reply. The new
 * entry is written before the old one goes, so a reader never misses the post; of two
 * racing writers each removes whichever of its own and the other's is older.
 */
export async function bumpInBoard(boardId: mongoose.Types.ObjectId, entry: FeedEntry, newPost: boolean): Promise<number> {
  const id = boardId.toString();
  const board = await BoardModel.findByIdAndUpdate(
    boardId,
    {
      $inc: { seq: 1, postCount: newPost ? 1 : 0 },
      $set: { lastActivityAt: entry.lastActivityAt, lastPostId: entry.postId, lastPostTitle: entry.title },
    },
    { returnDocument: 'after' },
  )
    .lean()
    .exec();
  if (!board) throw new Error(`board ${id} is missing`);
  const seq = board.seq;
  await putEntry(id, { ...entry, seq });
  const before = await PostModel.findByIdAndUpdate(entry.postId, { $max: { activitySeq: seq } }, { returnDocument: 'before' })
    .lean()
    .exec();
  const previous = before ? await previousSeq(before, entry.postId) : undefined;
  if (previous !== undefined && previous !== seq) await dropEntry(id, entry.postId, Math.min(previous, seq));
  return seq;
}

/** Rewrites a post's entry where it stands (an edit, hiding, a deletion that keeps replies). */
export async function updateInBoard(boardId: mongoose.Types.ObjectId, post: { activitySeq?: number | null }, entry: FeedEntry): Promise<void> {
  const seq = await previousSeq(post, entry.postId);
  if (seq === undefined) return;
  await updateVersioned<BoardPageDoc>(BoardPageModel, boardPageId(boardId.toString(), bucketOf(seq)), (doc) => {
    const entries = doc?.entries ?? [];
    if (!entries.some((e) => e.postId === entry.postId && e.seq === seq)) return null;
    return { entries: entries.map((e) => (e.postId === entry.postId && e.seq === seq ? { ...entry, seq } : e)) };
  });
}

/** Takes a post that is gone out of its board's list and count. */
export async function removeFromBoard(boardId: mongoose.Types.ObjectId, post: { activitySeq?: number | null }, postId: string): Promise<void> {
  const seq = await previousSeq(post, postId);
  if (seq !== undefined) await dropEntry(boardId.toString(), postId, seq);
  await BoardModel.updateOne({ _id: boardId }, { $inc: { postCount: -1 } }).exec();
}

export interface BoardSlice {
  entries: BoardEntry[];
  /** Pass as `before` for the next older page; absent on the last page. */
  older?: number;
  /** Pass as `after` for the next newer page; absent on the newest. */
  newer?: number;
}

async function readBucket(boardId: string, bucket: number): Promise<BoardEntry[]> {
  const doc = await BoardPageModel.findById(boardPageId(boardId, bucket)).lean<BoardPageDoc>().exec();
  return doc?.entries ?? [];
}

/**
 * One page of a board, newest activity first: the `perPage` entries numbered below
 * `before` (the newest when absent), or, with `after`, the `perPage` numbered just above it.
 */
export async function boardSlice(
  boardId: mongoose.Types.ObjectId,
  top: number,
  cursor: { before?: number; after?: number },
  perPage: number,
): Promise<BoardSlice> {
  const id = boardId.toString();
  const found: BoardEntry[] = [];
  if (cursor.after !== undefined) {
    const after = cursor.after;
    // Upwards: the entries just above `after`, one more than a page to know whether there are newer.
    for (let bucket = bucketOf(after + 1), read = 0; bucket <= bucketOf(top) && read < MAX_BUCKETS_PER_PAGE && found.length <= perPage; bucket++, read++) {
      found.push(...(await readBucket(id, bucket)).filter((e) => e.seq > after).sort((a, b) => a.seq - b.seq));
    }
    const page = found.slice(0, perPage).reverse();
    return {
      entries: page,
      newer: found.length > perPage ? page[0]?.seq : undefined,
      older: page.length > 0 ? page.at(-1)!.seq : after + 1,
    };
  }
  const before = Math.min(cursor.before ?? top + 1, top + 1);
  let bucket = bucketOf(Math.max(0, before - 1));
  for (let read = 0; bucket >= 0 && read < MAX_BUCKETS_PER_PAGE && found.length <= perPage; bucket--, read++) {
    found.push(...(await readBucket(id, bucket)).filter((e) => e.seq < before).sort((a, b) => b.seq - a.seq));
  }
  const page = found.slice(0, perPage);
  const bucketsLeft = bucket >= 0;
  return {
    entries: page,
    // More than a page found, or stopped on the bucket limit with buckets left below
    // (the next page goes on from the lowest number looked at).
    older: found.length > perPage ? page.at(-1)!.seq : bucketsLeft ? (page.at(-1)?.seq ?? (bucket + 1) * BUCKET_SIZE) : undefined,
    newer: cursor.before !== undefined && before <= top ? (page[0]?.seq ?? before - 1) : undefined,
  };
}
