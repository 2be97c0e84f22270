// The forum's pages: the list of posts, a post with its replies, writing both.
// Each route reads as its chain: sign-in → validate → rate limit → service.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../app.ts';
import { NotFoundError } from '../http/errors.ts';
import { flash, requireUser } from '../http/locals.ts';
import { REPLIES_PER_PAGE, type Post } from './model.ts';
import { forumSchemas, pageNumber, postId } from './schemas.ts';
import { createForumService, pageCount, type Author } from './service.ts';
import { linkMentions } from '../mentions/render.ts';
import { renderText } from './text.ts';

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

export function forumRouter(deps: AppDeps): Router {
  const router = Router();
  const { limits } = deps.config;
  const forum = createForumService({ readCacheMs: deps.config.readCacheMs, log: deps.log, writeLock: deps.writeLock, onWrite: deps.onForumWrite });
  const schemas = forumSchemas(limits);
  const maxima = { max: limits.postMaxLength, titleMax: limits.postTitleMaxLength };

  const translateError = (req: Request, error: FormError | undefined) =>
    error ? req.t(error.key, { ...maxima, ...error.vars }) : undefined;

  async function loadPost(req: Request): Promise<Post> {
    const id = postId.safeParse(req.params.id);
    const post = id.success ? await forum.findPost(id.data) : null;
    if (!post) throw new NotFoundError('forum.error.postNotFound');
    return post;
  }

  function renderNewPost(req: Request, res: Response, status = 200, error?: FormError) {
    res.status(status).render('forum/new', {
      title: req.t('forum.new.title'),
      languageReturnPath: '/posts/new',
      error: translateError(req, error),
      values: { title: formValue(req.body, 'title'), body: formValue(req.body, 'body') },
      limits: maxima,
    });
  }

  async function renderPost(req: Request, res: Response, post: Post, page: number, status = 200, error?: FormError) {
    const replies = await forum.replies(post, page);
    res.status(status).render('forum/post', {
      title: post.title,
      languageReturnPath: postHref(post._id.toString(), page),
      post,
      replies,
      renderText: (text: string) => linkMentions(renderText(text), limits.mentionsPerText),
      postHref,
      error: translateError(req, error),
      values: { body: formValue(req.body, 'body') },
      limits: maxima,
    });
  }

  router.get('/', async (req, res) => {
    const posts = await forum.latestPosts(pageNumber.parse(req.query.page));
    res.render('forum/home', { title: '', posts, postHref });
  });

  router.get('/posts/new', requireUser, (req, res) => renderNewPost(req, res));

  router.post('/posts', requireUser, async (req, res) => {
    const parsed = schemas.post.safeParse(req.body);
    if (!parsed.success) return renderNewPost(req, res, 400, { key: parsed.error.issues[0]!.message });
    const limit = await deps.limiters.post.consume(req.user!._id.toString());
    if (!limit.ok) return renderNewPost(req, res, 429, { key: 'forum.error.rateLimited', vars: { seconds: limit.retryAfterSeconds } });
    const id = await forum.createPost(author(req), parsed.data);
    flash(req, 'success', 'forum.new.published');
    res.redirect(303, postHref(id));
  });

  router.get('/posts/:id', async (req, res) => {
    const post = await loadPost(req);
    await renderPost(req, res, post, pageNumber.parse(req.query.page));
  });

  router.post('/posts/:id/replies', requireUser, async (req, res) => {
    const post = await loadPost(req);
    // A refused reply is shown again under the last page, beside the form.
    const lastPage = pageCount(post.replyCount, REPLIES_PER_PAGE);
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

  return router;
}
