// Posts, replies and boards, independent of HTTP. Reads are exact `_id` lookups behind a
// short in-memory cache; writes go one at a time (see db/serial-writes.ts) and drop what
// they changed from the cache. Who may write what is the routes' business; this only
// writes.
import mongoose from 'mongoose';
import { UserModel } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { upsertRetryingOnce } from '../db/upsert.ts';
import type { KeyLock } from '../db/redis-lock.ts';
import { createSerialWrites } from '../db/serial-writes.ts';
import type { Logger } from '../log.ts';
import { boardSlice, bumpInBoard, removeFromBoard, updateInBoard, type BoardSlice } from './board-list.ts';
import { allBoards, type BoardView } from './boards.ts';
import { BOARD_POSTS_PER_PAGE, DEFAULT_BOARD_ID } from './boards-model.ts';
import { dropFeed, feedEntry, feedPage, recordActivity, removeFromFeed } from './feed.ts';
import {
  POSTS_PER_PAGE,
  PostModel,
  REPLIES_PER_PAGE,
  ReplyPageModel,
  ReplyRefModel,
  replyPageId,
  type FeedEntry,
  type Post,
  type Reply,
} from './model.ts';
import { createReadCache } from '../db/read-cache.ts';
import { updateVersioned } from './versioned.ts';

export interface Author {
  id: string;
  username: string;
}

export interface Paged<T> {
  items: T[];
  page: number;
  pages: number;
}

/** A reply found by its id, with the post and page it belongs to. */
export interface FoundReply {
  reply: Reply;
  postId: string;
  page: number;
}

export type ForumService = ReturnType<typeof createForumService>;

/** Every forum write touches the home feed, so they share one queue. */
const FORUM_WRITES = 'forum';

export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}

/** The board a post is in: posts from before boards are in the default one. */
export const boardOf = (post: Pick<Post, 'board'>) => post.board ?? DEFAULT_BOARD_ID;

/** Appends to a reply page, creating it with the first reply that lands there. */
async function pushReply(pageId: string, reply: Reply): Promise<void> {
  // Two first replies racing to create the page on MongoDB: the loser's retry appends.
  await upsertRetryingOnce(() =>
    ReplyPageModel.updateOne({ _id: pageId }, { $push: { replies: reply }, $inc: { version: 1 } }, { upsert: true }).exec(),
  );
}

interface ReplyPageDoc {
  replies: Reply[];
  version?: number | null;
}

export function createForumService(deps: { readCacheMs: number; log: Logger; writeLock?: KeyLock }) {
  const cache = createReadCache({ ttlMs: deps.readCacheMs, maxEntries: 2000 });
  const writes = createSerialWrites({ lock: deps.writeLock });

  /** The post is stored; a list that missed it is dropped and rebuilt rather than left wrong. */
  async function listsAfterWrite(post: Post, change: 'new' | 'activity' | 'edit' | 'removed'): Promise<void> {
    const entry = feedEntry(post);
    const postId = entry.postId;
    try {
      if (change === 'removed') await removeFromFeed(postId);
      else await recordActivity(entry, change === 'new');
    } catch (err) {
      deps.log.warn({ err, postId }, 'home feed update failed; dropping it for a rebuild');
      await dropFeed().catch(() => undefined);
    }
    const board = boardOf(post);
    try {
      if (change === 'new' || change === 'activity') await bumpInBoard(board, entry, change === 'new');
      else if (change === 'edit') await updateInBoard(board, post, entry);
      else await removeFromBoard(board, post, postId);
    } catch (err) {
      // The post itself is stored: its board's list is a copy, and one left stale says so.
      deps.log.error({ err, postId, board: board.toString() }, 'board list update failed');
    }
    cache.invalidate('home:');
    cache.invalidate('boards');
    cache.invalidate(`board:${board.toString()}:`);
    cache.invalidate(`post:${postId}`);
  }

  async function findReply(replyId: string): Promise<FoundReply | null> {
    const ref = await ReplyRefModel.findById(replyId).lean().exec();
    if (!ref) return null;
    const page = await ReplyPageModel.findById(replyPageId(ref.postId, ref.page)).lean<ReplyPageDoc>().exec();
    const reply = page?.replies.find((r) => r._id.toString() === replyId);
    return reply ? { reply, postId: ref.postId, page: ref.page } : null;
  }

  /** Rewrites one reply in its page; false when it is not there. */
  function changeReply(found: FoundReply, change: (reply: Reply) => Reply): Promise<boolean> {
    return writes.run(FORUM_WRITES, async () => {
      const id = found.reply._id.toString();
      const written = await updateVersioned<ReplyPageDoc>(ReplyPageModel, replyPageId(found.postId, found.page), (doc) => {
        if (!doc?.replies.some((r) => r._id.toString() === id)) return null;
        return { replies: doc.replies.map((r) => (r._id.toString() === id ? change(r) : r)) };
      });
      cache.invalidate(`replies:${found.postId}:`);
      return written;
    });
  }

  /** Changes a post's own fields and brings its lists up to date. */
  function changePost(postId: string, update: mongoose.UpdateQuery<Post>): Promise<Post | null> {
    return writes.run(FORUM_WRITES, async () => {
      const post = await PostModel.findByIdAndUpdate(postId, update, { returnDocument: 'after' }).lean<Post>().exec();
      if (post) await listsAfterWrite(post, 'edit');
      return post;
    });
  }

  return {
    async latestPosts(page: number): Promise<Paged<FeedEntry>> {
      const { entries, total } = await cache.get(`home:${page}`, () => feedPage(page, POSTS_PER_PAGE));
      return { items: entries, page, pages: pageCount(total, POSTS_PER_PAGE) };
    },

    /** Every board, archived ones too, in order. */
    boards(): Promise<BoardView[]> {
      return cache.get('boards', allBoards);
    },

    async boardBySlug(slug: string): Promise<BoardView | undefined> {
      return (await this.boards()).find((b) => b.slug === slug);
    },

    /** Drops the kept list of boards (after an admin changed one). */
    boardsChanged(): void {
      cache.invalidate('boards');
    },

    /** One page of a board's posts, newest activity first (board-list.ts). */
    boardPosts(board: BoardView, cursor: { before?: number; after?: number }): Promise<BoardSlice> {
      const key = `board:${board._id.toString()}:${cursor.before ?? ''}:${cursor.after ?? ''}`;
      return cache.get(key, () => boardSlice(board._id, board.seq, cursor, BOARD_POSTS_PER_PAGE));
    },

    findPost(id: string): Promise<Post | null> {
      return cache.get(`post:${id}`, () => PostModel.findById(id).lean<Post>().exec());
    },

    /** One page of a post's replies, oldest first. */
    async replies(post: Pick<Post, '_id' | 'replyCount'>, page: number): Promise<Paged<Reply>> {
      const postId = post._id.toString();
      const items = await cache.get(`replies:${postId}:${page}`, async () => {
        const doc = await ReplyPageModel.findById(replyPageId(postId, page)).lean().exec();
        // Concurrent appends may land out of order; their position is authoritative.
        return (doc?.replies ?? []).sort((a, b) => a.n - b.n);
      });
      return { items, page, pages: pageCount(post.replyCount, REPLIES_PER_PAGE) };
    },

    findReply,

    createPost(author: Author, input: { title: string; body: string; board?: mongoose.Types.ObjectId }): Promise<string> {
      return writes.run(FORUM_WRITES, async () => {
        const now = new Date();
        const post = await PostModel.create({
          title: input.title,
          body: input.body,
          board: input.board ?? DEFAULT_BOARD_ID,
          authorId: author.id,
          authorName: author.username,
          createdAt: now,
          lastActivityAt: now,
          replyCount: 0,
        });
        await writeUser(author.id, () => UserModel.updateOne({ _id: author.id }, { $inc: { postCount: 1 } }).exec());
        await listsAfterWrite(post.toObject() as Post, 'new');
        return post._id.toString();
      });
    },

    /** Where the new reply landed, or null when the post does not exist. */
    addReply(author: Author, postId: string, body: string): Promise<{ replyId: string; page: number } | null> {
      return writes.run(FORUM_WRITES, async () => {
        const now = new Date();
        const post = await PostModel.findByIdAndUpdate(
          postId,
          { $inc: { replyCount: 1 }, $set: { lastActivityAt: now } },
          { returnDocument: 'after' },
        )
          .lean<Post>()
          .exec();
        if (!post) return null;
        const page = Math.ceil(post.replyCount / REPLIES_PER_PAGE);
        const replyId = new mongoose.Types.ObjectId();
        await ReplyRefModel.create({ _id: replyId, postId, page });
        await pushReply(replyPageId(postId, page), {
          _id: replyId,
          n: post.replyCount,
          authorId: new mongoose.Types.ObjectId(author.id),
          authorName: author.username,
          body,
          createdAt: now,
        });
        await writeUser(author.id, () => UserModel.updateOne({ _id: author.id }, { $inc: { replyCount: 1 } }).exec());
        cache.invalidate(`replies:${postId}:`);
        await listsAfterWrite(post, 'activity');
        return { replyId: replyId.toString(), page };
      });
    },

    editPost(postId: string, input: { title: string; body: string }): Promise<Post | null> {
      return changePost(postId, { $set: { title: input.title, body: input.body, editedAt: new Date() } });
    },

    /** A post with replies keeps them under "post deleted"; one without goes altogether. */
    deletePost(post: Post): Promise<'kept' | 'removed'> {
      const postId = post._id.toString();
      if (post.replyCount > 0) {
        return changePost(postId, { $set: { title: '', body: '', deletedAt: new Date() } }).then(() => 'kept' as const);
      }
      return writes.run(FORUM_WRITES, async () => {
        // Only while still without replies: one that lands meanwhile keeps the post.
        const gone = await PostModel.findOneAndDelete({ _id: postId, replyCount: 0 }).lean<Post>().exec();
        if (!gone) {
          await PostModel.updateOne({ _id: postId }, { $set: { title: '', body: '', deletedAt: new Date() } }).exec();
          const kept = await PostModel.findById(postId).lean<Post>().exec();
          if (kept) await listsAfterWrite(kept, 'edit');
          return 'kept';
        }
        const authorId = gone.authorId.toString();
        await writeUser(authorId, () => UserModel.updateOne({ _id: authorId }, { $inc: { postCount: -1 } }).exec());
        await listsAfterWrite(gone, 'removed');
        return 'removed';
      });
    },

    /** Moderators: hide (or show again) and lock (or unlock). */
    setPostFlags(postId: string, flags: { hidden?: boolean; locked?: boolean }): Promise<Post | null> {
      return changePost(postId, { $set: flags });
    },

    editReply(found: FoundReply, body: string): Promise<boolean> {
      return changeReply(found, (r) => ({ ...r, body, editedAt: new Date() }));
    },

    deleteReply(found: FoundReply): Promise<boolean> {
      return changeReply(found, (r) => ({ ...r, body: '', deletedAt: new Date() }));
    },

    setReplyHidden(found: FoundReply, hidden: boolean): Promise<boolean> {
      return changeReply(found, (r) => ({ ...r, hidden }));
    },
  };
}
