// The messages pages, their no-JavaScript forms, and the JSON the browser code reads.
// Sending by form goes through the same service as sending by socket.
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { UserDocument } from '../accounts/user-model.ts';
import type { Config } from '../config.ts';
import { HttpError, NotFoundError, ValidationError } from '../http/errors.ts';
import { requireUser } from '../http/locals.ts';
import type { Limiters } from '../http/rate-limits.ts';
import { blockingRouter, hasBlocked } from './blocking.ts';
import { groupRouter, REFUSAL_STATUS } from './group-routes.ts';
import { splitNames } from './groups.ts';
import { INBOX_KEEP } from './inbox.ts';
import { party, type Party } from './message-view.ts';
import type { MessagingService } from './service.ts';
import { firstIssue, historyQuerySchema, seqCursor } from './schemas.ts';
import { requestsRouter } from './requests.ts';
import { suggestUsernames } from './suggest.ts';

const STATUS = REFUSAL_STATUS;

function me(req: Request): Party {
  return { id: req.user!._id.toString(), username: req.user!.username };
}

/** The other member of a conversation; one who has blocked the viewer shows no presence to them. */
type Other = Party & { blocksViewer: boolean };

function asOther(req: Request, user: UserDocument): Other {
  return { ...party(user), blocksViewer: (user.blocked ?? []).includes(me(req).id) };
}

/** JSON endpoints answer 401 rather than redirecting to the sign-in page. */
function requireUserJson(req: Request, res: Response, next: NextFunction): void {
  if (req.user) return next();
  res.status(401).json({ ok: false, error: req.t('messaging.error.signIn') });
}

function formField(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** What the messages pages need: the service, and the message length for their forms. */
export interface MessagingRouterDeps {
  config: { limits: Pick<Config['limits'], 'messageMaxLength'> };
  messaging: MessagingService;
  limiters: Pick<Limiters, 'block' | 'suggest'>;
  /** The blocked member's pages stop following the blocker's presence (realtime/io.ts). */
  hidePresence?: (watcherId: string, userId: string) => void;
}

export function messagingRouter(deps: MessagingRouterDeps): Router {
  const router = Router();
  const { messaging } = deps;
  const maxLength = deps.config.limits.messageMaxLength;

  async function renderInbox(req: Request, res: Response, status = 200, form?: { error: string; to: string; content: string }) {
    const inbox = await messaging.inbox(me(req), { hidden: req.user!.blocked ?? [] });
    res.status(status).render('messages/index', {
      title: req.t('messaging.inbox.title'),
      conversations: inbox.conversations,
      groups: inbox.groups,
      requests: inbox.requests,
      requestsOn: inbox.requestsOn,
      // Only the most recent conversations are listed (see MessageStore.trimInbox): say so.
      showsRecentOnly: inbox.conversations.length >= INBOX_KEEP,
      maxLength,
      error: form?.error,
      values: { to: form?.to.slice(0, 400) ?? '', content: form?.content.slice(0, maxLength) ?? '' },
    });
  }

  /** The other member named in the URL; a member's own name sends them to the list. */
  async function otherFrom(req: Request): Promise<Other> {
    const user = await messaging.findOther({ username: String(req.params.username ?? '') });
    if (!user) throw new NotFoundError('messaging.error.unknownUser');
    return asOther(req, user);
  }

  async function renderConversation(req: Request, res: Response, other: Other, status = 200, form?: { error: string; content: string }) {
    const query = historyQuerySchema.safeParse(req.query);
    if (!query.success) throw new ValidationError(firstIssue(query.error));
    const before = req.method === 'GET' ? query.data.before : undefined;
    // A GET changes nothing: a prefetch or a link preview is not reading. The page's
    // script marks what it shows as read (markread), or the no-script form (POST …/read).
    const view = await messaging.history(me(req), other, { before }, { presence: !other.blocksViewer });
    res.status(status).render('messages/conversation', {
      title: other.username,
      isBlocked: hasBlocked(req, other.id),
      other: view.user,
      messages: view.messages,
      hasOlder: view.hasOlder,
      isOlderPage: before !== undefined,
      readUpTo: view.readUpTo,
      maxLength,
      error: form?.error,
      values: { content: form?.content.slice(0, maxLength) ?? '' },
    });
  }

  router.use(blockingRouter(messaging, { limiter: deps.limiters.block, hidePresence: deps.hidePresence }));
  router.use(groupRouter({ messaging, maxLength }));
  router.use(requestsRouter(messaging.requests));

  router.get('/messages', requireUser, (req, res) => renderInbox(req, res));

  router.post('/messages', requireUser, async (req, res) => {
    const to = formField(req.body, 'to');
    const content = formField(req.body, 'content');
    // Several names start a group conversation with them (groups.ts); one is a pair, as ever.
    const names = splitNames(to);
    if (names.length > 1) {
      if (names.length > 100) return renderInbox(req, res, 400, { error: req.t('groups.error.tooMany', { max: 100 }), to: '', content });
      const started = await messaging.startGroup(me(req), names, content);
      if (started.ok && started.conv) return res.redirect(303, `/messages/c/${started.conv}`);
      if (!started.ok) return renderInbox(req, res, STATUS[started.code], { error: req.t(started.error, started.vars), to, content });
    }
    const result = await messaging.send(me(req), { to_username: to, content });
    if (result.ok) return res.redirect(303, `/messages/${encodeURIComponent(result.friend.username)}`);
    await renderInbox(req, res, STATUS[result.code], { error: req.t(result.error, result.vars), to, content });
  });

  router.get('/api/inbox', requireUserJson, async (req, res) => {
    res.json({ ok: true, ...(await messaging.inbox(me(req), { hidden: req.user!.blocked ?? [] })) });
  });

  router.get('/api/users/suggest', requireUserJson, async (req, res) => {
    // Each ask may scan the usernames (see suggest.ts): limited per member.
    const limit = await deps.limiters.suggest.consume(me(req).id);
    if (!limit.ok) {
      res.status(429).set('Retry-After', String(limit.retryAfterSeconds));
      return res.json({ ok: false, error: req.t('safety.rateLimited', { seconds: limit.retryAfterSeconds }) });
    }
    const inbox = await messaging.inbox(me(req));
    res.json({ ok: true, users: await suggestUsernames(req.query.q, inbox.conversations, me(req).id) });
  });

  router.get('/messages/:username/history', requireUserJson, async (req, res) => {
    const query = historyQuerySchema.safeParse(req.query);
    if (!query.success) return res.status(400).json({ ok: false, error: req.t(firstIssue(query.error)) });
    const user = await messaging.findOther({ username: String(req.params.username ?? '') });
    if (!user) return res.status(404).json({ ok: false, error: req.t('messaging.error.unknownUser') });
    const them = asOther(req, user);
    res.json({ ok: true, ...(await messaging.history(me(req), them, query.data, { presence: !them.blocksViewer })) });
  });

  router.get('/messages/:username', requireUser, async (req, res) => {
    const other = await otherFrom(req);
    if (other.id === me(req).id) return res.redirect(303, '/messages');
    await renderConversation(req, res, other);
  });

  // Editing and deleting one's own message without JavaScript: the same service as the
  // socket events, then back to the conversation (or, refused, the reason on it).
  const change = (kind: 'edit' | 'delete') => async (req: Request, res: Response) => {
    const input = { message_id: String(req.params.id ?? ''), content: formField(req.body, 'content') };
    const result = kind === 'edit' ? await messaging.editMessage(me(req), input) : await messaging.deleteMessage(me(req), input);
    if (!result.ok) throw new HttpError(STATUS[result.code], req.t(result.error, result.vars));
    const other = await messaging.findOther({ id: result.message.to });
    res.redirect(303, other ? `/messages/${encodeURIComponent(other.username)}` : '/messages');
  };
  router.post('/messages/m/:id/edit', requireUser, change('edit'));
  router.post('/messages/m/:id/delete', requireUser, change('delete'));

  // Marking read without JavaScript: the conversation page's form, up to what it showed.
  router.post('/messages/:username/read', requireUser, async (req, res) => {
    const other = await otherFrom(req);
    const upTo = seqCursor.safeParse(formField(req.body, 'upTo'));
    if (!upTo.success) throw new ValidationError(firstIssue(upTo.error));
    const result = await messaging.markRead(me(req), { user: other.id, upTo: upTo.data });
    if (!result.ok) throw new HttpError(STATUS[result.code], result.error);
    res.redirect(303, `/messages/${encodeURIComponent(other.username)}`);
  });

  // The conversation's form without JavaScript.
  router.post('/messages/:username', requireUser, async (req, res) => {
    const other = await otherFrom(req);
    const content = formField(req.body, 'content');
    const result = await messaging.send(me(req), { to_user: other.id, content });
    if (result.ok) return res.redirect(303, `/messages/${encodeURIComponent(other.username)}`);
    await renderConversation(req, res, other, STATUS[result.code], { error: req.t(result.error, result.vars), content });
  });

  return router;
}
