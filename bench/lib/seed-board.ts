// Posts seeded straight into one board, in the shapes the app writes (forum/boards-model.ts):
// the posts themselves and the board's bucketed list, numbered on from the board's last
// number. The bucket a batch starts in may already hold entries (the previous batch's or
// stage's last); every other one is new and goes in with insertMany.
import { ObjectId, type Db } from 'mongodb';
import { boardPageId, bucketOf, DEFAULT_BOARD_ID, type BoardEntry } from '../../src/forum/boards-model.ts';
import { feedEntry } from '../../src/forum/feed.ts';

const BATCH = 5_000;

/** A title the page can be checked for: zero-padded, so "post 1" is not found in "post 10". */
export const boardPostTitle = (seq: number) => `Board post ${String(seq).padStart(7, '0')}`;

/** Adds posts to the default board until it holds `total`; resolves to the board's last number. */
export async function seedBoardPosts(db: Db, total: number, authorId: string): Promise<{ seq: number; elapsedMs: number }> {
  const started = performance.now();
  const boards = db.collection<{ _id: ObjectId; seq: number; postCount: number }>('boards');
  const board = await boards.findOne({ _id: DEFAULT_BOARD_ID });
  if (!board) throw new Error('the default board is missing: did the app start?');
  let seq = board.seq;
  const author = new ObjectId(authorId);
  while (seq < total) {
    const firstBucket = bucketOf(seq + 1);
    const count = Math.min(BATCH, total - seq);
    const posts = [];
    const buckets = new Map<number, BoardEntry[]>();
    for (let i = 0; i < count; i++) {
      seq++;
      const at = new Date(Date.UTC(2024, 0, 1) + seq * 1000);
      const post = { _id: new ObjectId(), title: boardPostTitle(seq), body: `Post number ${seq} of the growing board.`, authorId: author, authorName: 'bench', createdAt: at, lastActivityAt: at, replyCount: 0, board: DEFAULT_BOARD_ID, activitySeq: seq };
      posts.push(post);
      const entries = buckets.get(bucketOf(seq)) ?? [];
      entries.push({ ...feedEntry(post as never), seq });
      buckets.set(bucketOf(seq), entries);
    }
    await db.collection('posts').insertMany(posts, { ordered: false });
    const pages = db.collection<{ _id: string; entries: BoardEntry[]; version: number }>('board_pages');
    const fresh = [];
    for (const [bucket, entries] of buckets) {
      const _id = boardPageId(DEFAULT_BOARD_ID.toString(), bucket);
      if (bucket === firstBucket) await pages.updateOne({ _id }, { $push: { entries: { $each: entries } }, $inc: { version: 1 } }, { upsert: true });
      else fresh.push({ _id, entries, version: 1 });
    }
    if (fresh.length) await pages.insertMany(fresh, { ordered: false });
  }
  await boards.updateOne({ _id: DEFAULT_BOARD_ID }, { $set: { seq, postCount: seq } });
  return { seq, elapsedMs: performance.now() - started };
}
