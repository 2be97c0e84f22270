// Moderation and administration: moderators hide posts and replies, lock threads,
// suspend members and work the report queue (GET /moderation); admins also manage boards
// and roles (GET /admin). Members report what they see. Every moderator action is logged.
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { AppDeps } from '../app.ts';
import { findUserByUsername } from '../accounts/user-model.ts';
import { UserModel } from '../accounts/user-model.ts';
import { createBoard, moveBoard, SlugTakenError, updateBoard } from '../forum/boards.ts';
import { postHref } from '../forum/routes.ts';
import type { ForumService } from '../forum/service.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../http/errors.ts';
import { flash, requireUser } from '../http/locals.ts';
import { MessageModel } from '../messaging/models.ts';
import { latestModeration, logModeration, type Action } from './log.ts';
import { closeReport, fileReport, openReports, type ReportKind } from './reports.ts';
import { isAdmin, isModerator, setRole, type Role } from './roles.ts';
import { moderationSchemas as schemas } from './schemas.ts';
import { setSuspension, suspensionEnd } from './suspension.ts';

const RANK: Record<Role, number> = { member: 0, moderator: 1, admin: 2 };
const rankOf = (user: { role?: string | null }) => RANK[(user.role as Role) ?? 'member'] ?? 0;

function requireRole(check: (user: Request['user']) => boolean) {
  return (req: Request, res: Response, next: NextFunction) =>
    requireUser(req, res, () => (check(req.user) ? next() : next(new ForbiddenError('moderation.error.notAllowed'))));
}
const requireModerator = requireRole(isModerator);
const requireAdmin = requireRole(isAdmin);

const actor = (req: Request) => ({ id: req.user!._id.toString(), username: req.user!.username });

/** The first problem of a form, as a 400 the error page shows. */
function parseOrThrow<T>(result: { success: true; data: T } | { success: false; error: { issues: { message: string }[] } }): T {
  if (!result.success) throw new ValidationError(result.error.issues[0]!.message);
  return result.data;
}

export function moderationRouter(deps: AppDeps, forum: ForumService): Router {
  const router = Router();
  const log = (req: Request, action: Action) => logModeration(actor(req), action);

  router.post('/posts/:id/moderate', requireModerator, async (req, res) => {
    const id = parseOrThrow(schemas.objectId.safeParse(req.params.id));
    const { action } = parseOrThrow(schemas.postAction.safeParse(req.body));
    const flags = { hide: { hidden: true }, unhide: { hidden: false }, lock: { locked: true }, unlock: { locked: false } }[action];
    const post = await forum.setPostFlags(id, flags);
    if (!post) throw new NotFoundError('forum.error.postNotFound');
    await log(req, { action: `post.${action}`, targetKind: 'post', targetId: id, detail: post.title });
    flash(req, 'success', `moderation.done.${action}`);
    res.redirect(303, postHref(id));
  });

  router.post('/replies/:id/moderate', requireModerator, async (req, res) => {
    const id = parseOrThrow(schemas.objectId.safeParse(req.params.id));
    const { action } = parseOrThrow(schemas.replyAction.safeParse(req.body));
    const found = await forum.findReply(id);
    if (!found) throw new NotFoundError('forum.error.replyNotFound');
    await forum.setReplyHidden(found, action === 'hide');
    await log(req, { action: `reply.${action}`, targetKind: 'reply', targetId: id, detail: found.postId });
    flash(req, 'success', `moderation.done.${action}`);
    res.redirect(303, `${postHref(found.postId, found.page)}#reply-${id}`);
  });

  /** What a report is about, as the reporter may see it; null when it is not theirs to see. */
  async function reportTarget(req: Request, kind: ReportKind, id: string) {
    const me = req.user!._id.toString();
    if (kind === 'post') {
      const post = await forum.findPost(id);
      if (!post || post.deletedAt || post.hidden) return null;
      return { href: postHref(id), excerpt: `${post.title}\n${post.body}`, authorId: post.authorId.toString(), authorName: post.authorName };
    }
    if (kind === 'reply') {
      const found = await forum.findReply(id);
      if (!found || found.reply.deletedAt || found.reply.hidden) return null;
      const { reply } = found;
      return { href: `${postHref(found.postId, found.page)}#reply-${id}`, excerpt: reply.body, authorId: reply.authorId.toString(), authorName: reply.authorName };
    }
    // A private message: only one its reporter received.
    const message = await MessageModel.findById(id).lean().exec();
    if (!message || message.to !== me) return null;
    const author = await UserModel.findById(message.from, { username: 1 }).lean().exec();
    return { href: `/messages/${encodeURIComponent(author?.username ?? '')}`, excerpt: message.content, authorId: message.from, authorName: author?.username ?? '?' };
  }

  router.post('/reports', requireUser, async (req, res) => {
    const input = parseOrThrow(schemas.report.safeParse(req.body));
    const limit = await deps.limiters.report.consume(req.user!._id.toString());
    if (!limit.ok) throw new ValidationError('moderation.error.reportRateLimited');
    const target = await reportTarget(req, input.kind, input.id);
    if (!target) throw new NotFoundError('moderation.error.badTarget');
    await fileReport({ kind: input.kind, targetId: input.id, reason: input.reason, reporterId: actor(req).id, reporterName: actor(req).username, ...target });
    flash(req, 'success', 'moderation.report.thanks');
    res.redirect(303, target.href);
  });

  router.get('/moderation', requireModerator, async (req, res) => {
    const [reports, entries] = await Promise.all([openReports(), latestModeration()]);
    res.render('admin/moderation', {
      title: req.t('moderation.page.title'),
      languageReturnPath: '/moderation',
      reports,
      entries,
      isAdmin: isAdmin(req.user),
    });
  });

  router.post('/moderation/reports/:id', requireModerator, async (req, res) => {
    const id = parseOrThrow(schemas.objectId.safeParse(req.params.id));
    const { outcome } = parseOrThrow(schemas.closeReport.safeParse(req.body));
    if (await closeReport(id, outcome, req.user!.username)) {
      await log(req, { action: `report.${outcome === 'resolved' ? 'resolve' : 'dismiss'}`, targetKind: 'report', targetId: id });
    }
    flash(req, 'success', `moderation.done.${outcome}`);
    res.redirect(303, '/moderation');
  });

  router.post('/moderation/suspend', requireModerator, async (req, res) => {
    const input = parseOrThrow(schemas.suspend.safeParse(req.body));
    const member = await findUserByUsername(input.username);
    if (!member) throw new NotFoundError('moderation.error.noSuchMember');
    // Nobody suspends themselves, nor anyone of their own rank or above.
    if (member._id.equals(req.user!._id) || rankOf(member) >= rankOf(req.user!)) throw new ForbiddenError('moderation.error.notAllowed');
    const until = input.length === 'lift' ? null : suspensionEnd(input.length);
    await setSuspension(member._id.toString(), until, deps.closeUserSockets);
    await log(req, {
      action: until ? 'user.suspend' : 'user.unsuspend',
      targetKind: 'user',
      targetId: member._id.toString(),
      detail: [member.username, until && input.length !== 'forever' ? `${input.length}d` : input.length, input.reason].filter(Boolean).join(' · '),
    });
    flash(req, 'success', until ? 'moderation.done.suspended' : 'moderation.done.unsuspended');
    res.redirect(303, '/moderation');
  });

  router.get('/admin', requireAdmin, async (req, res) => {
    res.render('admin/index', {
      title: req.t('admin.page.title'),
      languageReturnPath: '/admin',
      boards: await forum.boards(),
      defaultName: req.t('boards.default.name'),
    });
  });

  router.post('/admin/boards', requireAdmin, async (req, res) => {
    const input = parseOrThrow(schemas.newBoard.safeParse(req.body));
    try {
      const board = await createBoard(input);
      await log(req, { action: 'board.create', targetKind: 'board', targetId: board._id.toString(), detail: `${board.slug} · ${board.name}` });
    } catch (err) {
      if (err instanceof SlugTakenError) throw new ValidationError('boards.error.slugTaken');
      throw err;
    }
    forum.boardsChanged();
    flash(req, 'success', 'admin.done.boardCreated');
    res.redirect(303, '/admin');
  });

  router.post('/admin/boards/:id', requireAdmin, async (req, res) => {
    const id = parseOrThrow(schemas.objectId.safeParse(req.params.id));
    const input = parseOrThrow(schemas.editBoard.safeParse(req.body));
    const changed = await updateBoard(id, { name: input.name, description: input.description, archived: input.archived === 'on' });
    if (!changed) throw new ValidationError('boards.error.cannotChange');
    await log(req, { action: input.archived ? 'board.archive' : 'board.update', targetKind: 'board', targetId: id, detail: input.name });
    forum.boardsChanged();
    flash(req, 'success', 'admin.done.boardSaved');
    res.redirect(303, '/admin');
  });

  router.post('/admin/boards/:id/move', requireAdmin, async (req, res) => {
    const id = parseOrThrow(schemas.objectId.safeParse(req.params.id));
    const { direction } = parseOrThrow(schemas.moveBoard.safeParse(req.body));
    await moveBoard(id, direction === 'up' ? -1 : 1);
    await log(req, { action: 'board.move', targetKind: 'board', targetId: id, detail: direction });
    forum.boardsChanged();
    res.redirect(303, '/admin');
  });

  router.post('/admin/roles', requireAdmin, async (req, res) => {
    const input = parseOrThrow(schemas.role.safeParse(req.body));
    const member = await findUserByUsername(input.username);
    if (!member) throw new NotFoundError('moderation.error.noSuchMember');
    // An admin cannot demote themselves: the forum would be left without one by mistake.
    if (member._id.equals(req.user!._id)) throw new ForbiddenError('moderation.error.notAllowed');
    await setRole(member._id.toString(), input.role);
    await log(req, { action: 'role.set', targetKind: 'user', targetId: member._id.toString(), detail: `${member.username} · ${input.role}` });
    flash(req, 'success', 'admin.done.roleSaved');
    res.redirect(303, '/admin');
  });

  return router;
}
