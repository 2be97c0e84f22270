import { Router } from 'express';
import type { AppDeps } from '../app.ts';

export function accountsRouter(_deps: AppDeps): Router {
  const router = Router();
  return router;
}
