// Blocking: a member stops another from messaging them. Plain forms (CSRF-protected)
// on the profile and on the conversation page; the messaging service refuses a blocked
// sender's messages (see service.ts), telling them only that they cannot message this
// member.
import { Router, type Request, type Response } from 'express';
import { findUserByUsername, UserModel } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { NotFoundError, RateLimitedError, ValidationError } from '../http/errors.ts';
import type { Limiter } from '../http/rate-limits.ts';
import { flash, requireUser } from '../http/locals.ts';
import type { MessagingService } from './service.ts';

/** Adds or removes `otherId` in `blockerId`'s block list; repeating either is harmless. */
export function setBlocked(blockerId: string, otherId: string, blocked: boolean): Promise<unknown> {
  const update = blocked ? { $addToSet: { blocked: otherId } } : { $pull: { blocked: otherId } };
  return writeUser(blockerId, () => UserModel.updateOne({ _id: blockerId }, update).exec());
}

/** Where the form was sent from, to go back there: the conversation page, the messages page (requests) or the profile. */
function returnPath(req: Request, username: string): string {
  const back = (req.body as Record<string, unknown> | undefined)?.back;
  const name = encodeURIComponent(username);
  if (back === 'messages') return '/messages';
  return back === 'conversation' ? `/messages/${name}` : `/users/${name}`;
}

export interface BlockingDeps {
  /** Blocking and unblocking write both members' documents: limited per member (BLOCK_RATE). */
  limiter: Limiter;
  /** The blocked member's pages stop following the blocker's presence (realtime/io.ts stopWatching). */
  hidePresence?: (watcherId: string, userId: string) => void;
}

export function blockingRouter(messaging: Pick<MessagingService, 'markBlockedBy'>, { limiter, hidePresence }: BlockingDeps): Router {
  const router = Router();

  const handle = (blocked: boolean) => async (req: Request, res: Response) => {
    const other = await findUserByUsername(String(req.params.username ?? ''));
    if (!other) throw new NotFoundError('accounts.profile.notFound');
    const me = req.user!;
    if (other._id.equals(me._id)) throw new ValidationError('messaging.block.self');
    const limit = await limiter.consume(me._id.toString());
    if (!limit.ok) throw new RateLimitedError(limit.retryAfterSeconds);
    await setBlocked(me._id.toString(), other._id.toString(), blocked);
    await messaging.markBlockedBy(other._id.toString(), me._id.toString(), blocked);
    // A block holds for presence at once: the blocked member's open pages stop following
    // the blocker (on every process) and show them offline. Unblocking shows them again
    // when a page next asks.
    if (blocked) hidePresence?.(other._id.toString(), me._id.toString());
    flash(req, 'success', blocked ? 'messaging.block.done' : 'messaging.block.undone');
    res.redirect(303, returnPath(req, other.username));
  };

  router.post('/users/:username/block', requireUser, handle(true));
  router.post('/users/:username/unblock', requireUser, handle(false));
  return router;
}

/** Whether the signed-in member has blocked `otherId`, for the forms' state. */
export function hasBlocked(req: Request, otherId: string): boolean {
  return (req.user?.blocked ?? []).includes(otherId);
}
