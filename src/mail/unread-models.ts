// The unread-message mail's state (mail/unread.ts).
//
// `mail_unread` holds one document per member who has unread messages that may need a
// mail: since when, and when to look. It exists only between a message arriving and the
// look that mails it or finds nothing to mail, so the worker's scan for due ones
// (FerretDB pushes only exact `_id` filters down) covers members with recent unread only.
// `mail_unread_sent` remembers, per member, how far each conversation has been mailed (by
// the messages' seq: nothing twice, even for a message stored a moment after a later one
// of another conversation) and when the last mail went (one per UNREAD_MAIL_INTERVAL_MS).
import mongoose, { Schema } from 'mongoose';

const unreadWatchSchema = new Schema(
  {
    _id: { type: String, required: true }, // the member's id
    /** Messages created after this may be mailed. */
    since: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    /** Goes up with every arrival: a look removes the document only if nothing arrived meanwhile. */
    n: { type: Number, required: true, default: 0 },
  },
  { collection: 'mail_unread', versionKey: false },
);
unreadWatchSchema.index({ dueAt: 1 });
export const UnreadWatchModel = mongoose.model('UnreadWatch', unreadWatchSchema);
export type UnreadWatch = { _id: string; since: Date; dueAt: Date; n: number };

const unreadSentSchema = new Schema(
  {
    _id: { type: String, required: true }, // the member's id
    /** The other member's id → the seq of the newest of their messages already mailed. */
    upTo: { type: Schema.Types.Mixed, default: {} },
    lastMailAt: { type: Date, required: true },
  },
  { collection: 'mail_unread_sent', versionKey: false },
);
export const UnreadSentModel = mongoose.model('UnreadSent', unreadSentSchema);
