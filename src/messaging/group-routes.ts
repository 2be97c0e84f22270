// The pages and forms of a group conversation (groups.ts): /messages/c/:id, its history as
// JSON for the browser's catch-up, and the forms to write without JavaScript, add members
// and leave. Each form carries the CSRF token; the session decides who acts.
import { Router, type NextFunction, type Request, type Response } from 'express';
import { HttpError, NotFoundError, ValidationError } from '../http/errors.ts';
import { flash, requireUser } from '../http/locals.ts';
import { splitNames } from './groups.ts';
import type { Party } from './message-view.ts';
import { isGroupConversation } from './models.ts';
import { firstIssue, historyQuerySchema, seqCursor } from './schemas.ts';
import type { MessagingService, Refusal } from './service.ts';

export const REFUSAL_STATUS: Record<Refusal['code'], number> = {
  invalid: 400,
  self: 400,
  notFound: 404,
  blocked: 403,
  forbidden: 403,
  tooLate: 403,
  rateLimited: 429,
  busy: 503,
  unavailable: 503,
  server: 500,
};

function me(req: Request): Party {
  return { id: req.user!._id.toString(), username: req.user!.username };
}

function formField(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** The group named in the URL, or on to the next route (a pair's URLs share the prefix). */
function groupParam(req: Request, _res: Response, next: NextFunction): void {
  next(isGroupConversation(String(req.params.id ?? '')) ? undefined : 'route');
}

export function groupRouter(deps: { messaging: MessagingService; maxLength: number }): Router {
  const router = Router();
  const { messaging, maxLength } = deps;
  const { groups } = messaging;
  const path = (conv: string) => `/messages/c/${conv}`;

  async function render(req: Request, res: Response, status = 200, form?: { error: string; content?: string; to?: string }) {
    const conv = String(req.params.id);
    const query = historyQuerySchema.safeParse(req.query);
    if (!query.success) throw new ValidationError(firstIssue(query.error));
    const before = req.method === 'GET' ? query.data.before : undefined;
    const page = await groups.page(me(req), conv, { before });
    if (!page) throw new NotFoundError('groups.error.notFound');
    // A GET only reads (a prefetch must not send receipts): the page's script marks what it shows read (group.js).
    res.status(status).render('messages/group', {
      title: page.group.title,
      page,
      isOlderPage: before !== undefined,
      maxLength,
      error: form?.error,
      values: { content: form?.content?.slice(0, maxLength) ?? '', to: form?.to?.slice(0, 400) ?? '' },
    });
  }

  router.get('/messages/c/:id', requireUser, groupParam, (req, res) => render(req, res));

  // Writing without JavaScript: the same service as the socket's privatemsg.
  router.post('/messages/c/:id', requireUser, groupParam, async (req, res) => {
    const content = formField(req.body, 'content');
    const result = await messaging.send(me(req), { conversation: String(req.params.id), content });
    if (result.ok) return res.redirect(303, path(String(req.params.id)));
    if (result.code === 'notFound') throw new NotFoundError('groups.error.notFound');
    await render(req, res, REFUSAL_STATUS[result.code], { error: req.t(result.error, result.vars), content });
  });

  // Marking read without JavaScript (the page's GET only reads).
  router.post('/messages/c/:id/read', requireUser, groupParam, async (req, res) => {
    const upTo = seqCursor.safeParse(formField(req.body, 'upTo'));
    if (!upTo.success) throw new ValidationError(firstIssue(upTo.error));
    const result = await messaging.markRead(me(req), { conversation: String(req.params.id), upTo: upTo.data });
    if (!result.ok) {
      if (result.code === 'notFound') throw new NotFoundError('groups.error.notFound');
      throw new HttpError(REFUSAL_STATUS[result.code], result.error);
    }
    res.redirect(303, path(String(req.params.id)));
  });

  router.get('/messages/c/:id/history', groupParam, async (req, res) => {
    if (!req.user) return res.status(401).json({ ok: false, error: req.t('messaging.error.signIn') });
    const query = historyQuerySchema.safeParse(req.query);
    if (!query.success) return res.status(400).json({ ok: false, error: req.t(firstIssue(query.error)) });
    const page = await groups.page(me(req), String(req.params.id), query.data);
    if (!page) return res.status(404).json({ ok: false, error: req.t('groups.error.notFound') });
    res.json({ ok: true, ...page });
  });

  router.post('/messages/c/:id/members', requireUser, groupParam, async (req, res) => {
    const to = formField(req.body, 'to');
    const names = splitNames(to);
    if (names.length === 0) return render(req, res, 400, { error: req.t('groups.error.nobodyNew'), to });
    if (names.length > 100) return render(req, res, 400, { error: req.t('groups.error.tooMany', { max: 100 }), to: '' });
    const result = await messaging.addToGroup(me(req), String(req.params.id), names);
    if (result.ok) {
      flash(req, 'success', 'groups.added');
      return res.redirect(303, path(String(req.params.id)));
    }
    if (result.code === 'notFound' && result.field !== 'to') throw new NotFoundError('groups.error.notFound');
    await render(req, res, REFUSAL_STATUS[result.code], { error: req.t(result.error, result.vars), to });
  });

  router.post('/messages/c/:id/leave', requireUser, groupParam, async (req, res) => {
    const result = await messaging.leaveGroup(me(req), String(req.params.id));
    if (!result.ok) {
      if (result.code === 'notFound') throw new NotFoundError('groups.error.notFound');
      return render(req, res, REFUSAL_STATUS[result.code], { error: req.t(result.error, result.vars) });
    }
    flash(req, 'success', 'groups.left');
    res.redirect(303, '/messages');
  });

  return router;
}
