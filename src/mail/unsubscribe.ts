// One-click unsubscribe (RFC 8058). The link in List-Unsubscribe carries the member's id
// and a signature (mail/index.ts): it needs no sign-in and no CSRF token, which is the
// point: a mail client POSTs `List-Unsubscribe=One-Click` to it with no cookies. It can
// only turn unread-message mails off, for the member it was made for; settings turn
// them back on. Mounted before the session, so it never creates one.
import { Router } from 'express';
import type { AppDeps } from '../app.ts';
import { isObjectIdString, UserModel } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { NotFoundError } from '../http/errors.ts';

export function unsubscribeRouter(deps: Pick<AppDeps, 'mail'>): Router {
  const router = Router();
  const check = (userId: string, signature: string) => {
    if (!deps.mail || !isObjectIdString(userId) || !deps.mail.isUnsubscribeSignature(userId, signature)) throw new NotFoundError();
  };

  // A GET changes nothing: link checkers and previews open links on their own.
  router.get('/mail/unsubscribe/:userId/:signature', (req, res) => {
    check(req.params.userId, req.params.signature);
    res.render('settings/unsubscribe', { title: req.t('unsubscribe.title'), done: false, action: req.originalUrl });
  });
  router.post('/mail/unsubscribe/:userId/:signature', async (req, res) => {
    const { userId, signature } = req.params;
    check(userId, signature);
    await writeUser(userId, () => UserModel.updateOne({ _id: userId }, { $set: { unreadMail: false } }).exec());
    res.render('settings/unsubscribe', { title: req.t('unsubscribe.title'), done: true, action: req.originalUrl });
  });
  return router;
}
