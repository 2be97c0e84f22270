// The search index, in documents read by `_id` only (the one lookup FerretDB 1.x pushes
// down; a text index or a regex would scan a million documents):
//
// - `search_docs`: one per indexed text, `_id: "<scope>|<ref>"` (`ref` is "<kind>:<id>",
//   e.g. "p:<post id>", "r:<reply id>", "m:<message id>"), with what a result shows. Its terms are not stored: tokenizing a short text again costs microseconds,
//   and leaving them out halves the collection (a million texts).
// - `search_terms`: a posting list per term, `_id: "<scope>|<term>"`. The head keeps the
//   newest refs (`recent`, appended to) and, once it holds BUCKET_SIZE, moves them into a
//   sealed bucket `"<scope>|<term>|<k>"` that is never written again. A million texts
//   make long lists for common words; a query only walks its rarest term's list, newest
//   bucket first, and skips buckets wholly older than its cursor (`mins`). A posting is
//   "<time>|<ref>", the text's time in base 36 first, so postings sort by age whatever
//   the ids look like (a message's id is a hash) and one is the cursor of the next page.
//
// Postings are candidates, not truth: an edited text keeps postings for words it lost,
// a deleted one leaves its postings; a candidate counts only if its search_docs entry
// still holds every query term. Scopes keep indexes apart: the forum's, and each member's
// own messages (issue 12).
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const BUCKET_SIZE = 512;

const searchDocSchema = new Schema(
  {
    _id: { type: String, required: true },
    title: { type: String, default: '' },
    body: { type: String, default: '' },
    author: { type: String, default: '' },
    href: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'search_docs', versionKey: false },
);
export type SearchDoc = InferSchemaType<typeof searchDocSchema>;
export const SearchDocModel = mongoose.model('SearchDoc', searchDocSchema);

const termHeadSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** Postings ever added (stale ones included): picks the rarest term. */
    n: { type: Number, required: true },
    recent: { type: [String], default: [] },
    /** Sealed buckets, numbered from 0 (oldest). */
    sealed: { type: Number, default: 0 },
    /** The oldest posting in each sealed bucket. */
    mins: { type: [String], default: [] },
  },
  { collection: 'search_terms', versionKey: false },
);
export type TermHead = InferSchemaType<typeof termHeadSchema>;
export const TermHeadModel = mongoose.model('SearchTerm', termHeadSchema);

const termBucketSchema = new Schema(
  {
    _id: { type: String, required: true },
    refs: { type: [String], default: [] },
  },
  { collection: 'search_term_buckets', versionKey: false },
);
export const TermBucketModel = mongoose.model('SearchTermBucket', termBucketSchema);

/** The text a document is indexed under. */
export const indexedText = (doc: { title?: string | null; body?: string | null }) => `${doc.title ?? ''}\n${doc.body ?? ''}`;

export const docId = (scope: string, ref: string) => `${scope}|${ref}`;
export const headId = (scope: string, term: string) => `${scope}|${term}`;
export const bucketId = (scope: string, term: string, k: number) => `${scope}|${term}|${k}`;
/** A ref's entry in a posting list: sorts by the text's time (milliseconds, base 36, fixed width), then by ref. */
export const posting = (ref: string, at: Date) => `${Math.max(0, at.getTime()).toString(36).padStart(9, '0')}|${ref}`;
export const postingRef = (entry: string) => entry.slice(entry.indexOf('|') + 1);
export const REF = /^[a-z]{1,8}:[\w-]{1,64}$/;
/** A posting, as the cursor of a next page. */
export const CURSOR = /^[0-9a-z]{9}\|[a-z]{1,8}:[\w-]{1,64}$/;
