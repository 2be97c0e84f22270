import { Router } from 'express';
import type { AppDeps } from '../app.ts';

export function forumRouter(_deps: AppDeps): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.render('home', { posts: [] });
  });
  return router;
}
