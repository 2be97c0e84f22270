// The member's settings: password, language, e-mail address, mail notifications.
// Each form posts to its own route and comes back to /settings with a message.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../app.ts';
import { verifyPassword } from '../accounts/passwords.ts';
import { signIn } from '../accounts/routes.ts';
import { UserModel } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { flash, requireUser } from '../http/locals.ts';
import { rememberLocale } from '../i18n/language-route.ts';
import { deleteAccount } from './account-deletion.ts';
import { confirmEmail, requestEmailConfirmation } from './email.ts';
import { setPassword } from './password.ts';
import { changePasswordSchema, deleteSchema, emailSchema, languageSchema, notificationsSchema } from './schemas.ts';

type Section = 'password' | 'language' | 'email' | 'notifications' | 'delete';

export function settingsRouter(deps: AppDeps): Router {
  const router = Router();
  const { limiters } = deps;

  function render(req: Request, res: Response, status = 200, error?: { section: Section; text: string }, values: Record<string, string> = {}) {
    const user = req.user!;
    res.status(status).render('settings/index', {
      title: req.t('settings.title'),
      account: { email: user.email ?? '', locale: user.locale ?? req.locale, unreadMail: user.unreadMail !== false },
      mailEnabled: Boolean(deps.mail),
      error,
      values,
    });
  }
  const refuse = (req: Request, res: Response, section: Section, key: string, vars?: Record<string, string | number>, status = 400) =>
    render(req, res, status, { section, text: req.t(key, vars) });
  const done = (req: Request, res: Response, key: string) => {
    flash(req, 'success', key);
    res.redirect(303, '/settings');
  };

  router.get('/settings', requireUser, (req, res) => render(req, res));

  /**
   * Whether the member typed their current password; otherwise the page is answered.
   * Guessing it from a stolen session costs like guessing it at sign-in.
   */
  async function provesPassword(req: Request, res: Response, section: Section, password: string): Promise<boolean> {
    const user = req.user!;
    const limit = await limiters.loginPerAccount.consume(`settings:${user._id.toString()}`);
    if (!limit.ok) {
      refuse(req, res, section, 'accounts.error.rateLimited', { seconds: limit.retryAfterSeconds }, 429);
      return false;
    }
    if (await verifyPassword(password, user.passwordHash)) return true;
    refuse(req, res, section, 'settings.error.currentWrong', undefined, 403);
    return false;
  }

  router.post('/settings/password', requireUser, async (req, res) => {
    const userId = req.user!._id.toString();
    const parsed = changePasswordSchema.safeParse(req.body);
    if (!parsed.success) return refuse(req, res, 'password', parsed.error.issues[0]!.message);
    if (!(await provesPassword(req, res, 'password', parsed.data.current))) return;
    const authVersion = await setPassword(userId, parsed.data.password);
    // Every other session is over from its next request; sockets close now, on every process.
    deps.endUserSessions?.(userId);
    await signIn(req, userId, authVersion);
    done(req, res, 'settings.password.done');
  });

  router.post('/settings/language', requireUser, async (req, res) => {
    const parsed = languageSchema.safeParse(req.body);
    if (!parsed.success) return refuse(req, res, 'language', parsed.error.issues[0]!.message);
    const userId = req.user!._id.toString();
    await writeUser(userId, () => UserModel.updateOne({ _id: userId }, { $set: { locale: parsed.data.locale } }).exec());
    // The pages follow the cookie (the language switcher's), mails the account's choice.
    rememberLocale(req, res, parsed.data.locale);
    flash(req, 'success', 'settings.language.done');
    res.redirect(303, '/settings');
  });

  router.post('/settings/email', requireUser, async (req, res) => {
    const parsed = emailSchema.safeParse(req.body);
    const typed = typeof (req.body as { email?: unknown })?.email === 'string' ? String((req.body as { email: string }).email).slice(0, 254) : '';
    if (!parsed.success) return render(req, res, 400, { section: 'email', text: req.t(parsed.error.issues[0]!.message) }, { email: typed });
    if (!deps.mail) return refuse(req, res, 'email', 'settings.error.noMail', undefined, 503);
    const limit = await limiters.emailChange.consume(req.user!._id.toString());
    if (!limit.ok) return refuse(req, res, 'email', 'accounts.error.rateLimited', { seconds: limit.retryAfterSeconds }, 429);
    await requestEmailConfirmation(deps.mail, req.user!, parsed.data.email, req.locale);
    flash(req, 'info', 'settings.email.sent');
    res.redirect(303, '/settings');
  });

  // Opened from the mail, perhaps in another browser: the link itself is the proof.
  router.get('/settings/email/confirm/:token', async (req, res) => {
    const result = await confirmEmail(req.params.token);
    if (req.user) {
      flash(req, result.ok ? 'success' : 'danger', result.ok ? 'settings.email.confirmed' : `settings.email.${result.reason}`);
      return res.redirect(303, '/settings');
    }
    res.status(result.ok ? 200 : result.reason === 'taken' ? 409 : 404).render('settings/email-confirmed', {
      title: req.t('settings.email.title'),
      message: req.t(result.ok ? 'settings.email.confirmed' : `settings.email.${result.reason}`),
      ok: result.ok,
    });
  });

  router.post('/settings/notifications', requireUser, async (req, res) => {
    const parsed = notificationsSchema.safeParse(req.body);
    if (!parsed.success) return refuse(req, res, 'notifications', 'settings.error.invalid');
    const userId = req.user!._id.toString();
    await writeUser(userId, () => UserModel.updateOne({ _id: userId }, { $set: { unreadMail: parsed.data.unreadMail === 'on' } }).exec());
    done(req, res, 'settings.notifications.done');
  });

  router.post('/settings/delete', requireUser, async (req, res) => {
    const user = req.user!;
    const parsed = deleteSchema.safeParse(req.body);
    if (!parsed.success) return refuse(req, res, 'delete', parsed.error.issues[0]!.message);
    if (!(await provesPassword(req, res, 'delete', parsed.data.password))) return;
    await deleteAccount(user);
    deps.endUserSessions?.(user._id.toString());
    // A fresh session, signed out, to carry the goodbye.
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    flash(req, 'info', 'settings.delete.done');
    res.redirect(303, '/');
  });

  return router;
}
