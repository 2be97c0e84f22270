// Users, and the username index that keeps a login an exact _id lookup.
//
// FerretDB 1.x pushes only an exact `_id` match down to SQLite; any other filter scans
// the collection. So a username is looked up in `usernames`, whose _id is the
// case-folded name, and the user by its ObjectId. The same _id also makes usernames
// unique regardless of case on both engines, without a secondary unique index.
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const userSchema = new Schema(
  {
    username: { type: String, required: true },
    passwordHash: { type: String, required: true },
    createdAt: { type: Date, required: true, default: () => new Date() },
    postCount: { type: Number, required: true, default: 0 },
    replyCount: { type: Number, required: true, default: 0 },
    /** Ids of users this user has blocked from messaging them. */
    blocked: { type: [String], default: [] },
    /**
     * Goes up when the password changes (or is reset): a session or socket signed in
     * under an older value is signed out (http/locals.ts, realtime/io.ts), without a
     * scan of the sessions collection for this member's sessions.
     */
    authVersion: { type: Number, default: 0 },
    /** The confirmed address (settings/email.ts); never shown to other members. */
    email: { type: String },
    /** The member's language, for mails (the pages follow the browser's cookie). */
    locale: { type: String },
    /** Unread-message mails wanted (one-click unsubscribe turns this off). */
    unreadMail: { type: Boolean, default: true },
    /**
     * Set when the member deleted their account (settings/account-deletion.ts). The document
     * stays, so the messages they sent stay readable by those they wrote to; the name stays
     * taken, so no one else can write under it.
     */
    deletedAt: { type: Date },
    /** member, moderator or admin (moderation/roles.ts). */
    role: { type: String, enum: ['member', 'moderator', 'admin'], default: 'member' },
    /** Set while suspended: no sign-in, posting or sending until then (moderation/suspension.ts). */
    suspendedUntil: { type: Date },
  },
  { collection: 'users', versionKey: false },
);

export type User = InferSchemaType<typeof userSchema> & { _id: mongoose.Types.ObjectId };
export const UserModel = mongoose.model('User', userSchema);
export type UserDocument = ReturnType<(typeof UserModel)['hydrate']>;

const usernameSchema = new Schema(
  {
    _id: { type: String, required: true }, // the case-folded username
    userId: { type: Schema.Types.ObjectId, required: true },
  },
  { collection: 'usernames', versionKey: false },
);
export const UsernameModel = mongoose.model('Username', usernameSchema);

// Look-alike names (accounts/username-rules.ts): a member's TR 39 skeleton as `_id`, so
// that two names that look the same cannot both exist, checked by one `_id` insert on
// both engines (FerretDB would scan for a skeleton kept only on the user).
const usernameSkeletonSchema = new Schema(
  {
    _id: { type: String, required: true }, // the skeleton
    userId: { type: Schema.Types.ObjectId, required: true },
  },
  { collection: 'username_skeletons', versionKey: false },
);
export const UsernameSkeletonModel = mongoose.model('UsernameSkeleton', usernameSkeletonSchema);

/** The key under which a username is unique: case-folded, Unicode-normalised. */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

export function isObjectIdString(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{24}$/i.test(value);
}

export async function findUserById(id: string): Promise<UserDocument | null> {
  if (!isObjectIdString(id)) return null;
  return UserModel.findById(id).exec();
}

/** Just a user's name, without building a document: for the socket handshake. */
export async function findUserName(
  id: string,
): Promise<{ _id: mongoose.Types.ObjectId; username: string; authVersion?: number; suspendedUntil?: Date } | null> {
  if (!isObjectIdString(id)) return null;
  return UserModel.findById(id, { username: 1, authVersion: 1, suspendedUntil: 1 })
    .lean<{ _id: mongoose.Types.ObjectId; username: string; authVersion?: number; suspendedUntil?: Date }>()
    .exec();
}

export async function findUserByUsername(username: string): Promise<UserDocument | null> {
  if (typeof username !== 'string' || username.length === 0 || username.length > 64) return null;
  const entry = await UsernameModel.findById(usernameKey(username)).lean().exec();
  if (!entry) return null;
  return UserModel.findById(entry.userId).exec();
}
