// Posts and replies, independent of HTTP. Reads are exact `_id` lookups behind a short
// in-memory cache; writes go one at a time (see db/serial-writes.ts) and drop what they
// changed from the cache.
import mongoose from 'mongoose';
import { UserModel } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { upsertRetryingOnce } from '../db/upsert.ts';
import type { KeyLock } from '../db/redis-lock.ts';
import { createSerialWrites } from '../db/serial-writes.ts';
import type { Logger } from '../log.ts';
import { dropFeed, feedEntry, feedPage, recordActivity } from './feed.ts';
import {
  POSTS_PER_PAGE,
  PostModel,
  REPLIES_PER_PAGE,
  ReplyPageModel,
  replyPageId,
  type FeedEntry,
  type Post,
  type Reply,
} from './model.ts';
import { createReadCache } from '../db/read-cache.ts';

export interface Author {
  id: string;
  username: string;
}

/**
 * What was just written, for the features that follow the forum (notifications,
 * mentions, the search index). Edits and deletes are announced the same way, so the
 * search index stays true to what the forum shows.
 */
export type ForumWrite =
  | { kind: 'post'; postId: string; title: string; body: string; author: Author; createdAt: Date }
  | { kind: 'reply'; postId: string; postTitle: string; postAuthorId: string; replyId: string; page: number; body: string; author: Author; createdAt: Date }
  | { kind: 'postEdited'; postId: string; title: string; body: string; author: Author; createdAt: Date }
  | { kind: 'replyEdited'; postId: string; postTitle: string; replyId: string; page: number; body: string; author: Author; createdAt: Date }
  | { kind: 'postDeleted'; postId: string }
  | { kind: 'replyDeleted'; postId: string; replyId: string };

/** Hears every forum write once it is stored; it must not throw (see notifications/forum-notices.ts). */
export type ForumListener = (write: ForumWrite) => Promise<void>;

export interface Paged<T> {
  items: T[];
  page: number;
  pages: number;
}

export interface ForumService {
  latestPosts(page: number): Promise<Paged<FeedEntry>>;
  findPost(id: string): Promise<Post | null>;
  /** One page of a post's replies, oldest first. */
  replies(post: Pick<Post, '_id' | 'replyCount'>, page: number): Promise<Paged<Reply>>;
  createPost(author: Author, input: { title: string; body: string }): Promise<string>;
  /** Where the new reply landed, or null when the post does not exist. */
  addReply(author: Author, postId: string, body: string): Promise<{ replyId: string; page: number } | null>;
}

/** Every forum write touches the home feed, so they share one queue. */
const FORUM_WRITES = 'forum';

export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}

/** Appends to a reply page, creating it with the first reply that lands there. */
async function pushReply(pageId: string, reply: Reply): Promise<void> {
  // Two first replies racing to create the page on MongoDB: the loser's retry appends.
  await upsertRetryingOnce(() => ReplyPageModel.updateOne({ _id: pageId }, { $push: { replies: reply } }, { upsert: true }).exec());
}

export function createForumService(deps: { readCacheMs: number; log: Logger; writeLock?: KeyLock; onWrite?: ForumListener }): ForumService {
  const written = (write: ForumWrite) => deps.onWrite?.(write);
  const cache = createReadCache({ ttlMs: deps.readCacheMs, maxEntries: 2000 });
  const writes = createSerialWrites({ lock: deps.writeLock });

  /** The post is stored; a feed that missed it is dropped and rebuilt rather than left wrong. */
  async function feedAfterWrite(entry: FeedEntry, newPost: boolean): Promise<void> {
    try {
      await recordActivity(entry, newPost);
    } catch (err) {
      deps.log.warn({ err, postId: entry.postId }, 'home feed update failed; dropping it for a rebuild');
      await dropFeed().catch(() => undefined);
    }
    cache.invalidate('home:');
  }

  return {
    async latestPosts(page) {
      const { entries, total } = await cache.get(`home:${page}`, () => feedPage(page, POSTS_PER_PAGE));
      return { items: entries, page, pages: pageCount(total, POSTS_PER_PAGE) };
    },

    findPost(id) {
      return cache.get(`post:${id}`, () => PostModel.findById(id).lean<Post>().exec());
    },

    async replies(post, page) {
      const postId = post._id.toString();
      const items = await cache.get(`replies:${postId}:${page}`, async () => {
        const doc = await ReplyPageModel.findById(replyPageId(postId, page)).lean().exec();
        // Concurrent appends may land out of order; their position is authoritative.
        return (doc?.replies ?? []).sort((a, b) => a.n - b.n);
      });
      return { items, page, pages: pageCount(post.replyCount, REPLIES_PER_PAGE) };
    },

    async createPost(author, { title, body }) {
      const now = new Date();
      const id = await writes.run(FORUM_WRITES, async () => {
        const post = await PostModel.create({
          title,
          body,
          authorId: author.id,
          authorName: author.username,
          createdAt: now,
          lastActivityAt: now,
          replyCount: 0,
        });
        await writeUser(author.id, () => UserModel.updateOne({ _id: author.id }, { $inc: { postCount: 1 } }).exec());
        await feedAfterWrite(feedEntry(post), true);
        return post._id.toString();
      });
      await written({ kind: 'post', postId: id, title, body, author, createdAt: now });
      return id;
    },

    async addReply(author, postId, body) {
      const now = new Date();
      const added = await writes.run(FORUM_WRITES, async () => {
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
        await pushReply(replyPageId(postId, page), {
          _id: replyId,
          n: post.replyCount,
          authorId: new mongoose.Types.ObjectId(author.id),
          authorName: author.username,
          body,
          createdAt: now,
        });
        await writeUser(author.id, () => UserModel.updateOne({ _id: author.id }, { $inc: { replyCount: 1 } }).exec());
        cache.invalidate(`post:${postId}`);
        cache.invalidate(`replies:${postId}:`);
        await feedAfterWrite(feedEntry(post), false);
        return { replyId: replyId.toString(), page, post };
      });
      if (!added) return null;
      const { replyId, page, post } = added;
      await written({ kind: 'reply', postId, postTitle: post.title, postAuthorId: post.authorId.toString(), replyId, page, body, author, createdAt: now });
      return { replyId, page };
    },
  };
}
