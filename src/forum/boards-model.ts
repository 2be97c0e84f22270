// Boards (版块) and the list of each board's posts, newest activity first.
//
// - `boards`: a handful of documents, read whole (and cached) for the home page.
// - `board_pages`: each board's posts in buckets, `_id: "<boardId>:<bucket>"`. Every
//   activity in a board (a new post, a reply) takes the board's next sequence number;
//   a post's entry lives in the bucket of its latest number (BUCKET_SIZE numbers per
//   bucket) and moves up when it gets a reply. Reading a page walks buckets down from a
//   number by `_id`, so listing the very first post of a million costs what the newest
//   does: FerretDB never scans `posts` for a board.
// - `legacy_seqs`: the number of each post that was listed when boards came (migrate.ts),
//   inserted in bulk instead of updating a million posts one by one.
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { feedEntrySchema } from './model.ts';

export const BUCKET_SIZE = 50;
export const BOARD_POSTS_PER_PAGE = 20;
/** The board every post had before boards existed, and every post sent without one. */
export const DEFAULT_BOARD_ID = new mongoose.Types.ObjectId('000000000000000000000b01');
export const DEFAULT_BOARD_SLUG = 'general';

const boardSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    slug: { type: String, required: true },
    /** Empty for the default board until an admin names it: pages show its translated name. */
    name: { type: String, default: '' },
    description: { type: String, default: '' },
    order: { type: Number, required: true, default: 0 },
    archived: { type: Boolean, default: false },
    postCount: { type: Number, required: true, default: 0 },
    /** The last sequence number given to an activity in this board. */
    seq: { type: Number, required: true, default: 0 },
    lastActivityAt: { type: Date },
    lastPostId: { type: String },
    lastPostTitle: { type: String },
    createdAt: { type: Date, required: true, default: () => new Date() },
  },
  { collection: 'boards', versionKey: false },
);
boardSchema.index({ slug: 1 }, { unique: true });
export type Board = InferSchemaType<typeof boardSchema>;
export const BoardModel = mongoose.model('Board', boardSchema);

const boardEntrySchema = feedEntrySchema.clone();
boardEntrySchema.add({ seq: { type: Number, required: true } });
export type BoardEntry = InferSchemaType<typeof feedEntrySchema> & { seq: number };

const boardPageSchema = new Schema(
  {
    _id: { type: String, required: true },
    entries: { type: [boardEntrySchema], default: [] },
    version: { type: Number },
  },
  { collection: 'board_pages', versionKey: false },
);
export const BoardPageModel = mongoose.model('BoardPage', boardPageSchema);

export function boardPageId(boardId: string, bucket: number): string {
  return `${boardId}:${bucket}`;
}

export const bucketOf = (seq: number) => Math.floor(seq / BUCKET_SIZE);

const legacySeqSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    seq: { type: Number, required: true },
  },
  { collection: 'legacy_seqs', versionKey: false },
);
export const LegacySeqModel = mongoose.model('LegacySeq', legacySeqSchema);

/**
 * The forum's one-off data migrations (migrate.ts), in the `migrations` collection that
 * other features record theirs in too (each by its own `_id`), under a model of its own.
 */
const migrationSchema = new Schema(
  {
    _id: { type: String, required: true },
    state: { type: String, required: true },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date },
  },
  { collection: 'migrations', versionKey: false },
);
export const MigrationModel = mongoose.model('ForumMigration', migrationSchema);
