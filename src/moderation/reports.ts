// Members report a post, a reply or a private message to the moderators, with a reason;
// moderators resolve or dismiss each report from the queue (moderation page).
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const REPORT_KINDS = ['post', 'reply', 'message'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

const reportSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, enum: REPORT_KINDS, required: true },
    targetId: { type: String, required: true },
    /** Where a moderator reads it in context. */
    href: { type: String, required: true },
    /** The reported text as it was when reported, and its author. */
    excerpt: { type: String, default: '' },
    authorId: { type: String, required: true },
    authorName: { type: String, required: true },
    reason: { type: String, required: true },
    reporterId: { type: String, required: true },
    reporterName: { type: String, required: true },
    createdAt: { type: Date, required: true },
    status: { type: String, enum: ['open', 'resolved', 'dismissed'], required: true },
    handledBy: { type: String },
    handledAt: { type: Date },
  },
  { collection: 'reports', versionKey: false },
);
// The queue lists open reports, newest first; on MongoDB this index serves it (FerretDB
// scans the collection, which holds reports, not posts: small).
reportSchema.index({ status: 1, _id: -1 });
export type Report = InferSchemaType<typeof reportSchema> & { _id: mongoose.Types.ObjectId };
export const ReportModel = mongoose.model('Report', reportSchema);

const EXCERPT_MAX = 300;
export const QUEUE_SIZE = 100;

export async function fileReport(report: Omit<Report, '_id' | 'createdAt' | 'status' | 'handledBy' | 'handledAt'>): Promise<string> {
  const id = new mongoose.Types.ObjectId();
  await ReportModel.create({
    ...report,
    _id: id,
    excerpt: [...report.excerpt].slice(0, EXCERPT_MAX).join(''),
    createdAt: new Date(),
    status: 'open',
  });
  return id.toString();
}

export function openReports(): Promise<Report[]> {
  return ReportModel.find({ status: 'open' }).sort({ _id: -1 }).limit(QUEUE_SIZE).lean<Report[]>().exec();
}

/** Closes an open report; false when it was not open (already handled by someone else). */
export async function closeReport(id: string, outcome: 'resolved' | 'dismissed', moderator: string): Promise<boolean> {
  const result = await ReportModel.updateOne(
    { _id: id, status: 'open' },
    { $set: { status: outcome, handledBy: moderator, handledAt: new Date() } },
  ).exec();
  return result.modifiedCount === 1;
}
