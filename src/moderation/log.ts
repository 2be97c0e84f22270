// Every moderator action, with who and when: the moderation page lists the latest.
// Newest first by `_id` (an ObjectId starts with its time); a small collection, read a page at a time.
import type { Request } from 'express';
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const entrySchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    actorId: { type: String, required: true },
    actorName: { type: String, required: true },
    /** e.g. post.hide, reply.delete, user.suspend, report.dismiss, board.create, role.set */
    action: { type: String, required: true },
    targetKind: { type: String, required: true },
    targetId: { type: String, required: true },
    /** A few words for the log's reader: a title, a username, a reason. */
    detail: { type: String, default: '' },
  },
  { collection: 'moderation_log', versionKey: false },
);
export type ModerationEntry = InferSchemaType<typeof entrySchema>;
export const ModerationLogModel = mongoose.model('ModerationLog', entrySchema);

const DETAIL_MAX = 200;
export const LOG_PAGE_SIZE = 50;

export interface Action {
  action: string;
  targetKind: 'post' | 'reply' | 'message' | 'user' | 'report' | 'board';
  targetId: string;
  detail?: string;
}

export async function logModeration(actor: { id: string; username: string }, action: Action): Promise<void> {
  await ModerationLogModel.create({
    _id: new mongoose.Types.ObjectId(),
    at: new Date(),
    actorId: actor.id,
    actorName: actor.username,
    ...action,
    detail: [...(action.detail ?? '')].slice(0, DETAIL_MAX).join(''),
  });
}

/** Logs the action when the signed-in member acted on someone else's text (a moderator). */
export async function logIfModerating(req: Request, authorId: { toString(): string }, action: Action): Promise<void> {
  const user = req.user!;
  if (user._id.toString() === authorId.toString()) return;
  await logModeration({ id: user._id.toString(), username: user.username }, action);
}

export async function latestModeration(limit = LOG_PAGE_SIZE): Promise<ModerationEntry[]> {
  return ModerationLogModel.find({}).sort({ _id: -1 }).limit(limit).lean<ModerationEntry[]>().exec();
}
