// Message requests: the first message from someone the owner has never talked with waits
// under Requests on the messages page, counted apart from the unread badge, with accept,
// block and ignore; replying accepts. The state lives in the owner's inbox entry, read
// with the inbox by `_id` and written there: `o` (messages the owner sent, written by the
// views with every message, so a reply accepts with no write of its own), `acc`, `ign`,
// and `reqOff` on the inbox for a member who turned requests off (models.ts isRequest).
import { Router, type Request, type Response } from 'express';
import { HttpError } from '../http/errors.ts';
import { flash, requireUser } from '../http/locals.ts';
import type { Notify } from '../realtime/events.ts';
import type { FindOther } from './members.ts';
import { party, type Party } from './message-view.ts';
import { entryKey, InboxModel, isRequest, unreadOf, unreadTotalOf, type InboxDoc } from './models.ts';
import type { MessageStore } from './store.ts';

/** Where a new request is announced (the notifications module, once it has landed: "new message request"). */
export type OnMessageRequest = (owner: string, from: Party) => void;

export function createRequests(deps: { store: MessageStore; findOther: FindOther; notify: Notify }) {
  const { store, notify } = deps;

  /** Marks `other`'s request to `owner` accepted or ignored; false when there is no such request. */
  async function decide(owner: Party, otherUsername: string, decision: 'acc' | 'ign'): Promise<boolean> {
    const other = await deps.findOther({ username: otherUsername });
    if (!other) return false;
    const them = party(other);
    const key = entryKey(them.id);
    const before = await store.readInbox(owner.id);
    if (!isRequest(before, before?.e?.[key])) return false;
    const after = await store.serial.run(`inbox:${owner.id}`, () =>
      InboxModel.findOneAndUpdate({ _id: owner.id }, { $set: { [`e.${key}.${decision}`]: true }, $inc: { v: 1 } }, { returnDocument: 'after' }).lean<InboxDoc>().exec(),
    );
    store.forgetBadge(owner.id);
    // Accepted, its unread messages join the badge in every tab.
    if (after) notify([owner.id], 'unread', { v: after.v ?? 0, total: unreadTotalOf(after), user: { _id: them.id, username: them.username }, count: unreadOf(after.e?.[key]) });
    return true;
  }

  /** Turns requests on or off for `owner`. */
  async function setEnabled(owner: Party, enabled: boolean): Promise<void> {
    const after = await store.serial.run(`inbox:${owner.id}`, () =>
      InboxModel.findOneAndUpdate({ _id: owner.id }, { $set: { reqOff: !enabled }, $inc: { v: 1 } }, { upsert: true, returnDocument: 'after' })
        .lean<InboxDoc>()
        .exec(),
    );
    store.forgetBadge(owner.id);
    if (after) notify([owner.id], 'unread', { v: after.v ?? 0, total: unreadTotalOf(after), user: { _id: '', username: '' }, count: 0 });
  }

  return { decide, setEnabled };
}

export type Requests = ReturnType<typeof createRequests>;

/** The requests box's forms (CSRF-protected like every form); each returns to the messages page. */
export function requestsRouter(requests: Requests): Router {
  const router = Router();
  const me = (req: Request): Party => ({ id: req.user!._id.toString(), username: req.user!.username });

  const decide = (decision: 'acc' | 'ign') => async (req: Request, res: Response) => {
    // No such request (a page from before a reply accepted it, say): back to the list, saying so.
    if (!(await requests.decide(me(req), String(req.params.username ?? ''), decision))) {
      flash(req, 'info', 'chatmore.requests.unknown');
      return res.redirect(303, '/messages');
    }
    res.redirect(303, decision === 'acc' ? `/messages/${encodeURIComponent(String(req.params.username))}` : '/messages');
  };
  router.post('/messages/requests/:username/accept', requireUser, decide('acc'));
  router.post('/messages/requests/:username/ignore', requireUser, decide('ign'));

  router.post('/messages/requests/settings', requireUser, async (req, res) => {
    const value = (req.body as Record<string, unknown> | undefined)?.requests;
    if (value !== undefined && value !== 'on') throw new HttpError(400, 'chatmore.requests.invalid');
    await requests.setEnabled(me(req), value === 'on');
    flash(req, 'success', 'chatmore.requests.saved');
    res.redirect(303, '/messages');
  });
  return router;
}
