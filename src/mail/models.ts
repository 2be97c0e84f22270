// What the mail queue keeps in the database, so that a restart (or a crash) loses no mail.
//
// `mail_jobs` holds every mail not yet handed to the SMTP server; a sent one is deleted,
// so the collection stays as small as the backlog and the worker's scan for due jobs
// (FerretDB pushes only exact `_id` filters down) stays cheap. The index is the one
// MongoDB uses for the same query.
//
// `mail_claims` decides which process sends an attempt: the first to insert
// `<job id>#<attempt>` wins. An insert keyed by `_id` is atomic on both engines, where a
// conditional update is not on FerretDB (it reads, then writes the whole document).
import mongoose, { Schema } from 'mongoose';

const mailJobSchema = new Schema(
  {
    _id: { type: String, required: true },
    to: { type: String, required: true },
    subject: { type: String, required: true },
    text: { type: String, required: true },
    html: { type: String },
    /** Extra headers (List-Unsubscribe and friends). */
    headers: { type: Schema.Types.Mixed, default: {} },
    /** What made it (for the log and for tests): 'reset', 'confirm', 'unread'. */
    kind: { type: String, required: true },
    attempts: { type: Number, required: true, default: 0 },
    dueAt: { type: Date, required: true },
    createdAt: { type: Date, required: true, default: () => new Date() },
    lastError: { type: String },
    /** Set once it has failed MAIL_MAX_ATTEMPTS times: kept for a person to look at, never tried again. */
    failedAt: { type: Date },
  },
  { collection: 'mail_jobs', versionKey: false },
);
mailJobSchema.index({ dueAt: 1 });

export type MailJob = mongoose.InferSchemaType<typeof mailJobSchema> & { _id: string };
export const MailJobModel = mongoose.model('MailJob', mailJobSchema);

const mailClaimSchema = new Schema(
  {
    _id: { type: String, required: true }, // `<job id>#<attempt>`
    at: { type: Date, required: true },
    by: { type: String, required: true },
  },
  { collection: 'mail_claims', versionKey: false },
);
export const MailClaimModel = mongoose.model('MailClaim', mailClaimSchema);
