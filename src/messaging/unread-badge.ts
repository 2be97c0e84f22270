// Puts the signed-in member's unread-message count in res.locals for the header badge
// and the page title: one exact `_id` read of their inbox, only for pages (not JSON).
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { MessagingService } from './service.ts';

export function unreadBadge(messaging: Pick<MessagingService, 'unreadTotal' | 'maxLength'>): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    // The chat dialog's textarea is on every page.
    res.locals.messageMaxLength = messaging.maxLength;
    res.locals.unreadTotal = 0;
    res.locals.inboxVersion = 0;
    if (req.user && req.accepts(['html', 'json']) === 'html') {
      const { total, v } = await messaging.unreadTotal({ id: req.user._id.toString(), username: req.user.username });
      res.locals.unreadTotal = total;
      res.locals.inboxVersion = v;
    }
    next();
  };
}
