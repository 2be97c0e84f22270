// The home page's list of posts by latest activity.
//
// Measured on the embedded FerretDB with 3,000 posts: sorting `posts` for a page takes
// about 240 ms (it scans and decodes every post, bodies included), reading the feed
// document about 25 ms. So the first pages come from the feed, a single document kept
// in order on every post and reply; only pages past it sort `posts` (on MongoDB, with
// the index on lastActivityAt).
import { isDuplicateKey } from '../db/errors.ts';
import { HOME_FEED_ID, HOME_FEED_SIZE, HomeFeedModel, PostModel, type FeedEntry, type Post } from './model.ts';

interface Feed {
  entries: FeedEntry[];
  total: number;
  version: number;
}

const ENTRY_FIELDS = { title: 1, authorName: 1, createdAt: 1, lastActivityAt: 1, replyCount: 1, hidden: 1, deletedAt: 1 } as const;
const BY_ACTIVITY = { lastActivityAt: -1, _id: -1 } as const;

type EntrySource = Pick<Post, '_id' | 'title' | 'authorName' | 'createdAt' | 'lastActivityAt' | 'replyCount'> &
  Partial<Pick<Post, 'hidden' | 'deletedAt'>>;

export function feedEntry(post: EntrySource): FeedEntry {
  return {
    postId: post._id.toString(),
    title: post.title,
    authorName: post.authorName,
    createdAt: post.createdAt,
    lastActivityAt: post.lastActivityAt,
    replyCount: post.replyCount,
    // Only when set: an entry of a plain post stays as small as it was.
    ...(post.hidden && { hidden: true }),
    ...(post.deletedAt && { deleted: true }),
  };
}

/** Makes the feed from `posts`: on first use, or after a write could not keep it current. */
async function rebuildFeed(): Promise<Feed> {
  const [posts, total] = await Promise.all([
    PostModel.find({}, ENTRY_FIELDS).sort(BY_ACTIVITY).limit(HOME_FEED_SIZE).lean().exec(),
    PostModel.countDocuments({}).exec(),
  ]);
  const feed: Feed = { entries: posts.map(feedEntry), total, version: 0 };
  try {
    await HomeFeedModel.create({ _id: HOME_FEED_ID, ...feed });
    return feed;
  } catch (err) {
    // Another process built it first: use theirs.
    if (isDuplicateKey(err)) return readFeed();
    throw err;
  }
}

async function readFeed(): Promise<Feed> {
  const doc = await HomeFeedModel.findById(HOME_FEED_ID).lean().exec();
  return doc ?? rebuildFeed();
}

const byActivity = (a: FeedEntry, b: FeedEntry) =>
  b.lastActivityAt.getTime() - a.lastActivityAt.getTime() || (a.postId < b.postId ? 1 : a.postId > b.postId ? -1 : 0);

/**
 * What the feed should say of a post, given what it says now and what a writer brings.
 * On MongoDB with several processes no lock is taken: a reply may reach the feed after a
 * newer one written by another process (its retry re-reads the feed with the newer entry
 * in it). Counts and activity only grow, so the higher reply count and the later
 * activity win, and an older entry never takes back what a newer one said.
 */
export function mergeFeedEntry(current: FeedEntry | undefined, incoming: FeedEntry): FeedEntry {
  if (!current) return incoming;
  const later = current.lastActivityAt.getTime() > incoming.lastActivityAt.getTime() ? current.lastActivityAt : incoming.lastActivityAt;
  return { ...incoming, replyCount: Math.max(current.replyCount, incoming.replyCount), lastActivityAt: later };
}

/**
 * Puts a post's current state into the feed, in activity order. Callers hold the forum
 * write lock; the version check keeps other processes (on MongoDB) from overwriting, and
 * the merge keeps a late writer from going back in time.
 */
export async function recordActivity(incoming: FeedEntry, newPost: boolean): Promise<void> {
  await changeFeed(incoming.postId, (others, feed) => ({
    entries: [...others, mergeFeedEntry(feed.entries.find((e) => e.postId === incoming.postId), incoming)],
    // A feed rebuilt after the post was stored already counts it.
    total: feed.total + (newPost && others.length === feed.entries.length ? 1 : 0),
  }));
}

/**
 * Takes a post that is gone (deleted with no replies) out of the feed and its count. The
 * post is already gone from `posts`; a feed rebuilt since may count one less than it
 * should for a while, never fewer than it lists.
 */
export async function removeFromFeed(postId: string): Promise<void> {
  await changeFeed(postId, (others, feed) => ({ entries: others, total: Math.max(others.length, feed.total - 1) }));
}

async function changeFeed(postId: string, change: (others: FeedEntry[], feed: Feed) => { entries: FeedEntry[]; total: number }): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const feed = await readFeed();
    const others = feed.entries.filter((e) => e.postId !== postId);
    const { total, entries: unsorted } = change(others, feed);
    const entries = unsorted.sort(byActivity).slice(0, HOME_FEED_SIZE);
    const result = await HomeFeedModel.updateOne(
      { _id: HOME_FEED_ID, version: feed.version },
      { $set: { entries, total }, $inc: { version: 1 } },
    ).exec();
    if (result.matchedCount === 1) return;
  }
  // Still contended: drop the feed, and the next read rebuilds it from `posts`.
  await dropFeed();
}

export async function dropFeed(): Promise<void> {
  await HomeFeedModel.deleteOne({ _id: HOME_FEED_ID }).exec();
}

export interface FeedPage {
  entries: FeedEntry[];
  total: number;
}

export async function feedPage(page: number, perPage: number): Promise<FeedPage> {
  const feed = await readFeed();
  const start = (page - 1) * perPage;
  // Past the end there is nothing to sort for (and a made-up page number costs no scan).
  if (start + perPage <= HOME_FEED_SIZE || feed.total <= HOME_FEED_SIZE || start >= feed.total) {
    return { entries: feed.entries.slice(start, start + perPage), total: feed.total };
  }
  const posts = await PostModel.find({}, ENTRY_FIELDS).sort(BY_ACTIVITY).skip(start).limit(perPage).lean().exec();
  return { entries: posts.map(feedEntry), total: feed.total };
}
