// The forum's pages: boards, the list of posts, a post with its replies, writing,
// editing and deleting both. Each route reads as its chain:
// sign-in → load → permission → validate → rate limit → service.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../app.ts';
import { ForbiddenError, NotFoundError } from '../http/errors.ts';
import { flash, requireUser } from '../http/locals.ts';
import { logIfModerating } from '../moderation/log.ts';
import { isModerator } from '../moderation/roles.ts';
import { DEFAULT_BOARD_SLUG } from './boards-model.ts';
import type { BoardView } from './boards.ts';
import { REPLIES_PER_PAGE, type Post, type Reply } from './model.ts';
import { boardCursor, forumSchemas, pageNumber, postId } from './schemas.ts';
import { boardOf, pageCount, type Author, type ForumService, type FoundReply } from './service.ts';
import { quoteText, renderText } from './text.ts';

interface FormError {
  key: string;
  vars?: Record<string, string | number>;
}

function author(req: Request): Author {
  return { id: req.user!._id.toString(), username: req.user!.username };
}

/** Form fields to put back into a re-shown form: strings only, whatever was sent. */
function formValue(body: unknown, field: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'string' ? value : '';
}

export function postHref(id: string, page = 1): string {
  return page > 1 ? `/posts/${id}?page=${page}` : `/posts/${id}`;
}

export const boardHref = (slug: string, cursor: { before?: number; after?: number } = {}) =>
  cursor.before !== undefined ? `/boards/${slug}?before=${cursor.before}` : cursor.after !== undefined ? `/boards/${slug}?after=${cursor.after}` : `/boards/${slug}`;

/** The author of a text, or a moderator, may change it. */
export function mayChange(req: Request, authorId: { toString(): string }): boolean {
  return Boolean(req.user) && (req.user!._id.toString() === authorId.toString() || isModerator(req.user));
}

/** Hidden posts and replies are for moderators and their author. */
const maySeeHidden = (req: Request, authorId: { toString(): string }) => mayChange(req, authorId);

export function forumRouter(deps: AppDeps, forum: ForumService): Router {
  const router = Router();
  const { limits } = deps.config;
  const schemas = forumSchemas(limits);
  const maxima = { max: limits.postMaxLength, titleMax: limits.postTitleMaxLength };
  const editorScripts = ['/static/js/forum.js'];

  const translateError = (req: Request, error: FormError | undefined) =>
    error ? req.t(error.key, { ...maxima, ...error.vars }) : undefined;
  const boardName = (req: Request, board: BoardView) => board.name || req.t('boards.default.name');

  async function loadPost(req: Request): Promise<Post> {
    const id = postId.safeParse(req.params.id);
    const post = id.success ? await forum.findPost(id.data) : null;
    if (!post || (post.hidden && !maySeeHidden(req, post.authorId))) throw new NotFoundError('forum.error.postNotFound');
    return post;
  }

  async function loadReply(req: Request): Promise<FoundReply> {
    const id = postId.safeParse(req.params.id);
    const found = id.success ? await forum.findReply(id.data) : null;
    if (!found || found.reply.deletedAt) throw new NotFoundError('forum.error.replyNotFound');
    return found;
  }

  /** Only the author or a moderator gets past; a deleted text cannot be changed. */
  function checkMayChange(req: Request, text: { authorId: { toString(): string }; deletedAt?: Date | null }) {
    if (text.deletedAt) throw new NotFoundError('forum.error.postNotFound');
    if (!mayChange(req, text.authorId)) throw new ForbiddenError('forum.error.notYours');
  }

  async function openBoards(): Promise<BoardView[]> {
    return (await forum.boards()).filter((b) => !b.archived);
  }

  async function renderNewPost(req: Request, res: Response, status = 200, error?: FormError) {
    const boards = await openBoards();
    const wanted = formValue(req.method === 'POST' ? req.body : req.query, 'board');
    res.status(status).render('forum/new', {
      title: req.t('forum.new.title'),
      languageReturnPath: '/posts/new',
      error: translateError(req, error),
      values: { title: formValue(req.body, 'title'), body: formValue(req.body, 'body'), board: wanted || DEFAULT_BOARD_SLUG },
      boards: boards.map((b) => ({ slug: b.slug, name: boardName(req, b) })),
      limits: maxima,
      scripts: editorScripts,
    });
  }

  async function renderPost(req: Request, res: Response, post: Post, page: number, status = 200, error?: FormError, prefill?: string) {
    const replies = await forum.replies(post, page);
    const board = (await forum.boards()).find((b) => b._id.equals(boardOf(post)));
    res.status(status).render('forum/post', {
      title: post.deletedAt ? req.t('forum.post.deleted') : post.title,
      languageReturnPath: postHref(post._id.toString(), page),
      post,
      board: board && { slug: board.slug, name: boardName(req, board) },
      replies,
      renderText,
      postHref,
      mayChange: (authorId: { toString(): string }) => mayChange(req, authorId),
      isModerator: isModerator(req.user),
      error: translateError(req, error),
      values: { body: prefill ?? formValue(req.body, 'body') },
      limits: maxima,
      scripts: editorScripts,
    });
  }

  /** `?quote=<reply id>` (or `post`): the reply box starts with that text quoted. */
  function quoteFor(req: Request, post: Post, replies: Reply[]): string | undefined {
    const wanted = req.query.quote;
    if (typeof wanted !== 'string') return undefined;
    if (wanted === 'post') return post.deletedAt ? undefined : quoteText(post.authorName, post.body);
    const reply = replies.find((r) => r._id.toString() === wanted);
    if (!reply || reply.deletedAt || (reply.hidden && !maySeeHidden(req, reply.authorId))) return undefined;
    return quoteText(reply.authorName, reply.body);
  }

  router.get('/', async (req, res) => {
    const [posts, boards] = await Promise.all([forum.latestPosts(pageNumber.parse(req.query.page)), openBoards()]);
    res.render('forum/home', {
      title: '',
      posts,
      boards: boards.map((b) => ({ ...b, name: boardName(req, b) })),
      postHref,
      boardHref,
      showHidden: isModerator(req.user),
    });
  });

  router.get('/boards/:slug', async (req, res) => {
    const board = await forum.boardBySlug(String(req.params.slug).toLowerCase());
    if (!board) throw new NotFoundError('boards.error.notFound');
    const cursor = { before: boardCursor.parse(req.query.before), after: boardCursor.parse(req.query.after) };
    const slice = await forum.boardPosts(board, cursor.after !== undefined ? { after: cursor.after } : { before: cursor.before });
    res.render('forum/board', {
      title: boardName(req, board),
      languageReturnPath: boardHref(board.slug, cursor),
      board: { ...board, name: boardName(req, board) },
      slice,
      postHref,
      boardHref,
      showHidden: isModerator(req.user),
    });
  });

  router.get('/posts/new', requireUser, (req, res) => renderNewPost(req, res));

  router.post('/posts', requireUser, async (req, res) => {
    const parsed = schemas.post.safeParse(req.body);
    if (!parsed.success) return renderNewPost(req, res, 400, { key: parsed.error.issues[0]!.message });
    const board = await forum.boardBySlug(parsed.data.board ?? DEFAULT_BOARD_SLUG);
    if (!board || board.archived) return renderNewPost(req, res, 400, { key: 'boards.error.notOpen' });
    const limit = await deps.limiters.post.consume(req.user!._id.toString());
    if (!limit.ok) return renderNewPost(req, res, 429, { key: 'forum.error.rateLimited', vars: { seconds: limit.retryAfterSeconds } });
    const id = await forum.createPost(author(req), { title: parsed.data.title, body: parsed.data.body, board: board._id });
    flash(req, 'success', 'forum.new.published');
    res.redirect(303, postHref(id));
  });

  router.get('/posts/:id', async (req, res) => {
    const post = await loadPost(req);
    const page = pageNumber.parse(req.query.page);
    const replies = await forum.replies(post, page);
    await renderPost(req, res, post, page, 200, undefined, req.user ? quoteFor(req, post, replies.items) : undefined);
  });

  router.post('/posts/:id/replies', requireUser, async (req, res) => {
    const post = await loadPost(req);
    // A refused reply is shown again under the last page, beside the form.
    const lastPage = pageCount(post.replyCount, REPLIES_PER_PAGE);
    if (post.locked && !isModerator(req.user)) return renderPost(req, res, post, lastPage, 403, { key: 'forum.error.locked' });
    const parsed = schemas.reply.safeParse(req.body);
    if (!parsed.success) return renderPost(req, res, post, lastPage, 400, { key: parsed.error.issues[0]!.message });
    const limit = await deps.limiters.post.consume(req.user!._id.toString());
    if (!limit.ok) {
      return renderPost(req, res, post, lastPage, 429, { key: 'forum.error.rateLimited', vars: { seconds: limit.retryAfterSeconds } });
    }
    const reply = await forum.addReply(author(req), post._id.toString(), parsed.data.body);
    if (!reply) throw new NotFoundError('forum.error.postNotFound');
    res.redirect(303, `${postHref(post._id.toString(), reply.page)}#reply-${reply.replyId}`);
  });

  // Editing and deleting: the author, or a moderator. Edits count against the posting rate.
  function renderEdit(req: Request, res: Response, target: { kind: 'post' | 'reply'; id: string; title?: string; body: string }, status = 200, error?: FormError) {
    res.status(status).render('forum/edit', {
      title: req.t(target.kind === 'post' ? 'forum.edit.postTitle' : 'forum.edit.replyTitle'),
      languageReturnPath: `/${target.kind === 'post' ? 'posts' : 'replies'}/${target.id}/edit`,
      target,
      error: translateError(req, error),
      limits: maxima,
      scripts: editorScripts,
    });
  }

  router.get('/posts/:id/edit', requireUser, async (req, res) => {
    const post = await loadPost(req);
    checkMayChange(req, post);
    renderEdit(req, res, { kind: 'post', id: post._id.toString(), title: post.title, body: post.body });
  });

  router.post('/posts/:id/edit', requireUser, async (req, res) => {
    const post = await loadPost(req);
    checkMayChange(req, post);
    const id = post._id.toString();
    const typed = { kind: 'post' as const, id, title: formValue(req.body, 'title'), body: formValue(req.body, 'body') };
    const parsed = schemas.edit.safeParse(req.body);
    if (!parsed.success) return renderEdit(req, res, typed, 400, { key: parsed.error.issues[0]!.message });
    const limit = await deps.limiters.post.consume(req.user!._id.toString());
    if (!limit.ok) return renderEdit(req, res, typed, 429, { key: 'forum.error.rateLimited', vars: { seconds: limit.retryAfterSeconds } });
    await forum.editPost(id, parsed.data);
    await logIfModerating(req, post.authorId, { action: 'post.edit', targetKind: 'post', targetId: id, detail: parsed.data.title });
    flash(req, 'success', 'forum.edit.saved');
    res.redirect(303, postHref(id));
  });

  router.post('/posts/:id/delete', requireUser, async (req, res) => {
    const post = await loadPost(req);
    checkMayChange(req, post);
    const outcome = await forum.deletePost(post);
    await logIfModerating(req, post.authorId, { action: 'post.delete', targetKind: 'post', targetId: post._id.toString(), detail: post.title });
    flash(req, 'success', 'forum.delete.done');
    res.redirect(303, outcome === 'kept' ? postHref(post._id.toString()) : '/');
  });

  router.get('/replies/:id/edit', requireUser, async (req, res) => {
    const found = await loadReply(req);
    checkMayChange(req, found.reply);
    renderEdit(req, res, { kind: 'reply', id: found.reply._id.toString(), body: found.reply.body });
  });

  router.post('/replies/:id/edit', requireUser, async (req, res) => {
    const found = await loadReply(req);
    checkMayChange(req, found.reply);
    const id = found.reply._id.toString();
    const typed = { kind: 'reply' as const, id, body: formValue(req.body, 'body') };
    const parsed = schemas.reply.safeParse(req.body);
    if (!parsed.success) return renderEdit(req, res, typed, 400, { key: parsed.error.issues[0]!.message });
    const limit = await deps.limiters.post.consume(req.user!._id.toString());
    if (!limit.ok) return renderEdit(req, res, typed, 429, { key: 'forum.error.rateLimited', vars: { seconds: limit.retryAfterSeconds } });
    await forum.editReply(found, parsed.data.body);
    await logIfModerating(req, found.reply.authorId, { action: 'reply.edit', targetKind: 'reply', targetId: id, detail: found.postId });
    flash(req, 'success', 'forum.edit.saved');
    res.redirect(303, `${postHref(found.postId, found.page)}#reply-${id}`);
  });

  router.post('/replies/:id/delete', requireUser, async (req, res) => {
    const found = await loadReply(req);
    checkMayChange(req, found.reply);
    await forum.deleteReply(found);
    await logIfModerating(req, found.reply.authorId, { action: 'reply.delete', targetKind: 'reply', targetId: found.reply._id.toString(), detail: found.postId });
    flash(req, 'success', 'forum.delete.done');
    res.redirect(303, `${postHref(found.postId, found.page)}#reply-${found.reply._id.toString()}`);
  });

  // The composer's preview: the same renderer as the page, so what you see is what you get.
  router.post('/preview', requireUser, async (req, res) => {
    const parsed = schemas.preview.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ ok: false, error: req.t(parsed.error.issues[0]!.message, maxima) });
      return;
    }
    const limit = await deps.limiters.preview.consume(req.user!._id.toString());
    if (!limit.ok) {
      res.status(429).json({ ok: false, error: req.t('forum.error.previewRateLimited', { seconds: limit.retryAfterSeconds }) });
      return;
    }
    res.json({ ok: true, html: renderText(parsed.data.body) });
  });

  return router;
}
