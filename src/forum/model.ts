// Posts, their replies and the home page's list, shaped so that every hot read is an
// exact `_id` lookup (FerretDB 1.x scans and decodes the whole collection for anything
// else):
//
// - `posts`: one document per post, by ObjectId. Authors' names are copied in, so a
//   page never looks authors up.
// - `reply_pages`: replies in fixed-size pages, `_id: "<postId>:<pageNo>"`. Reply n
//   (counting from 1) lives on page ceil(n / REPLIES_PER_PAGE); the post's `replyCount`
//   says how many pages there are.
// - `home_feed`: a single document listing the HOME_FEED_SIZE posts with the latest
//   activity, kept up to date on every post and reply; rebuilt from `posts` when missing.
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const REPLIES_PER_PAGE = 20;
export const POSTS_PER_PAGE = 20;
/** Posts the home feed holds: the first pages of the home page. Older ones come from `posts`. */
export const HOME_FEED_SIZE = 200;

const postSchema = new Schema(
  {
    title: { type: String, required: true },
    body: { type: String, required: true },
    authorId: { type: Schema.Types.ObjectId, required: true },
    authorName: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastActivityAt: { type: Date, required: true },
    replyCount: { type: Number, required: true, default: 0 },
    /** Its board (boards.ts); posts from before boards get the default board on migration. */
    board: { type: Schema.Types.ObjectId },
    /** Its place in the board's list (board-list.ts): bumped by every reply. */
    activitySeq: { type: Number },
    editedAt: { type: Date },
    /** Deleted by its author or a moderator: title and body are gone, replies stay. */
    deletedAt: { type: Date },
    /** Hidden by a moderator: shown to moderators only, until shown again. */
    hidden: { type: Boolean },
    /** Locked by a moderator: no more replies. */
    locked: { type: Boolean },
  },
  { collection: 'posts', versionKey: false },
);
// Only the home page's pages past the feed sort posts; on MongoDB this index serves them.
postSchema.index({ lastActivityAt: -1, _id: -1 });

export type Post = InferSchemaType<typeof postSchema> & { _id: mongoose.Types.ObjectId };
export const PostModel = mongoose.model('Post', postSchema);

const replySchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    /** Position in the thread, from 1: orders replies and names their page. */
    n: { type: Number, required: true },
    authorId: { type: Schema.Types.ObjectId, required: true },
    authorName: { type: String, required: true },
    body: { type: String, required: true },
    createdAt: { type: Date, required: true },
    editedAt: { type: Date },
    deletedAt: { type: Date },
    hidden: { type: Boolean },
  },
  { _id: false },
);
export type Reply = InferSchemaType<typeof replySchema>;

const replyPageSchema = new Schema(
  {
    _id: { type: String, required: true },
    replies: { type: [replySchema], default: [] },
    /** Bumped on every change, so an edit only lands on the page it read (versioned.ts). */
    version: { type: Number },
  },
  { collection: 'reply_pages', versionKey: false },
);
export const ReplyPageModel = mongoose.model('ReplyPage', replyPageSchema);

/** Where a reply lives, by its id: `/replies/:id/edit` knows nothing else. */
const replyRefSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    postId: { type: String, required: true },
    page: { type: Number, required: true },
  },
  { collection: 'reply_refs', versionKey: false },
);
export const ReplyRefModel = mongoose.model('ReplyRef', replyRefSchema);

export function replyPageId(postId: string, page: number): string {
  return `${postId}:${page}`;
}

export const feedEntrySchema = new Schema(
  {
    postId: { type: String, required: true },
    title: { type: String, required: true },
    authorName: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastActivityAt: { type: Date, required: true },
    replyCount: { type: Number, required: true },
    hidden: { type: Boolean },
    deleted: { type: Boolean },
  },
  { _id: false },
);
export type FeedEntry = InferSchemaType<typeof feedEntrySchema>;

export const HOME_FEED_ID = 'latest';
const homeFeedSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** Newest activity first. */
    entries: { type: [feedEntrySchema], default: [] },
    /** All posts, for the page count. */
    total: { type: Number, required: true },
    /** Bumped on every change: a write only lands on the version it read. */
    version: { type: Number, required: true },
  },
  { collection: 'home_feed', versionKey: false },
);
export const HomeFeedModel = mongoose.model('HomeFeed', homeFeedSchema);
