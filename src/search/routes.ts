// GET /search?q=<words>[&before=<cursor>]: the forum's posts and replies, newest first,
// the query's words marked. Signed in or not; rate-limited per member (else per address).
import { Router } from 'express';
import { z } from 'zod';
import type { Limiter } from '../http/rate-limits.ts';
import { FORUM_SCOPE } from './forum-index.ts';
import { CURSOR } from './model.ts';
import type { SearchIndex, SearchPage } from './search-index.ts';

export const QUERY_MAX_LENGTH = 200;
export const RESULTS_PER_PAGE = 20;

const searchQuery = z.object({
  q: z.string().max(QUERY_MAX_LENGTH, 'search.tooLong').optional().catch(undefined),
  before: z.string().regex(CURSOR).optional().catch(undefined),
});

export function searchRouter(deps: { index: SearchIndex; limiter: Limiter }): Router {
  const router = Router();

  router.get('/search', async (req, res) => {
    const raw = typeof req.query.q === 'string' ? req.query.q : '';
    const parsed = searchQuery.parse({ q: raw, before: req.query.before });
    const q = (parsed.q ?? '').trim();
    let page: SearchPage | undefined;
    let error: string | undefined;
    let status = 200;
    if (raw.length > QUERY_MAX_LENGTH) {
      status = 400;
      error = req.t('search.tooLong', { max: QUERY_MAX_LENGTH });
    } else if (q) {
      const limit = await deps.limiter.consume(req.user ? `user:${req.user._id.toString()}` : `ip:${req.ip ?? ''}`);
      if (limit.ok) page = await deps.index.search(FORUM_SCOPE, q, { before: parsed.before, limit: RESULTS_PER_PAGE });
      else {
        status = 429;
        res.set('Retry-After', String(limit.retryAfterSeconds));
        error = req.t('search.rateLimited', { seconds: limit.retryAfterSeconds });
      }
    }
    res.locals.searchQuery = raw.slice(0, QUERY_MAX_LENGTH);
    res.status(status).render('search/index', {
      title: q ? `${req.t('search.title')}: ${q.slice(0, 60)}` : req.t('search.title'),
      q,
      page,
      error,
      isOlderPage: parsed.before !== undefined,
      nextHref: page?.next ? `/search?${new URLSearchParams({ q, before: page.next }).toString()}` : undefined,
      newestHref: `/search?${new URLSearchParams({ q }).toString()}`,
    });
  });

  return router;
}
