// One document per member, `_id` = their user id, holding their most recent
// notifications newest first. Every read (the header's count, the page) and every write
// is an exact `_id` lookup, the only kind FerretDB 1.x pushes down; nothing scans.
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

/** Notifications a member keeps; older ones fall off the end. */
export const NOTIFICATIONS_KEPT = 50;

export const NOTIFICATION_KINDS = ['reply', 'mention', 'request'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

const itemSchema = new Schema(
  {
    _id: { type: String, required: true },
    /**
     * What coalesces: a second unread notification with the same key (another reply to
     * the same post) updates the first instead of adding one, as NodeBB merges them.
     */
    k: { type: String, required: true },
    kind: { type: String, enum: NOTIFICATION_KINDS, required: true },
    /** The member who acted last, and how many acts this item stands for. */
    actor: { type: String, required: true },
    n: { type: Number, required: true },
    /** What it is about (a post's title), and where it leads: the exact reply. */
    title: { type: String, default: '' },
    href: { type: String, required: true },
    excerpt: { type: String, default: '' },
    at: { type: Date, required: true },
    read: { type: Boolean, required: true },
  },
  { _id: false },
);
export type NotificationItem = InferSchemaType<typeof itemSchema>;

const notificationsSchema = new Schema(
  {
    _id: { type: String, required: true },
    items: { type: [itemSchema], default: [] },
    /** Items not read yet: the header's count. */
    unread: { type: Number, required: true },
    /** Bumped on every change: a write lands only on the version it read, and clients keep the highest. */
    v: { type: Number, required: true },
  },
  { collection: 'notifications', versionKey: false },
);
export type NotificationsDoc = InferSchemaType<typeof notificationsSchema>;
export const NotificationsModel = mongoose.model('Notifications', notificationsSchema);
