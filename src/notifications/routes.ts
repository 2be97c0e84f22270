// The notifications page and the header's count. Opening the page reads what it lists;
// "mark all read" does the same without opening it (and without JavaScript).
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { requireUser } from '../http/locals.ts';
import type { Translate } from '../i18n/index.ts';
import type { NotificationItem } from './model.ts';
import type { NotificationsService } from './service.ts';

/** The sentence a notification shows, in the reader's language. */
export function describe(t: Translate, item: NotificationItem): string {
  const vars = { actor: item.actor, title: item.title, count: item.n };
  const many = item.n > 1 ? 'many' : 'one';
  return t(`notifications.${item.kind}.${many}`, vars);
}

/** Puts the signed-in member's unread count in res.locals for the header's bell (pages only). */
export function notificationsBadge(notifications: Pick<NotificationsService, 'unreadCount'>): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.locals.notificationCount = 0;
    res.locals.notificationsVersion = 0;
    if (req.user && req.accepts(['html', 'json']) === 'html') {
      const { unread, v } = await notifications.unreadCount(req.user._id.toString());
      res.locals.notificationCount = unread;
      res.locals.notificationsVersion = v;
    }
    next();
  };
}

export function notificationsRouter(notifications: NotificationsService): Router {
  const router = Router();

  router.get('/notifications', requireUser, async (req, res) => {
    const userId = req.user!._id.toString();
    const { items } = await notifications.list(userId);
    // Shown as unread this once; read from now on, in every tab.
    await notifications.markAllRead(userId);
    res.locals.notificationCount = 0;
    res.render('notifications/index', {
      title: req.t('notifications.title'),
      items: items.map((item) => ({ ...item, text: describe(req.t, item) })),
    });
  });

  // The bell after a reconnect: what changed while the socket was away.
  router.get('/api/notifications', async (req, res) => {
    if (!req.user) {
      res.status(401).json({ ok: false, error: req.t('messaging.error.signIn') });
      return;
    }
    const { unread, v } = await notifications.unreadCount(req.user._id.toString());
    res.json({ ok: true, unread, v });
  });

  router.post('/notifications/read', requireUser, async (req, res) => {
    await notifications.markAllRead(req.user!._id.toString());
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ ok: true });
      return;
    }
    res.redirect(303, '/notifications');
  });

  return router;
}
