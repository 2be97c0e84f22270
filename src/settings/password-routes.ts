// Forgotten password: ask for a link by address, open it, choose a new password.
// The answer to "send me a link" is the same page whether or not the address belongs to
// anyone, and takes the same path to it: the mail is made and queued after the answer.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../app.ts';
import { signIn } from '../accounts/routes.ts';
import { flash } from '../http/locals.ts';
import { emailKey, findUserByEmail } from './email.ts';
import { mailResetLink, resetPassword } from './password.ts';
import { forgotSchema, resetSchema } from './schemas.ts';
import { peekToken } from './tokens.ts';

export function passwordRouter(deps: AppDeps): Router {
  const router = Router();
  const { limiters, log } = deps;

  const renderForgot = (req: Request, res: Response, status = 200, error?: string, email = '') =>
    res.status(status).render('password/forgot', { title: req.t('password.forgot.title'), error, email });
  const renderReset = (req: Request, res: Response, status = 200, error?: string) =>
    res.status(status).render('password/reset', { title: req.t('password.reset.title'), error, token: req.params.token });
  const renderDeadLink = (req: Request, res: Response) =>
    res.status(404).render('password/dead-link', { title: req.t('password.dead.title') });

  router.get('/password/forgot', (req, res) => renderForgot(req, res));
  router.post('/password/forgot', async (req, res) => {
    const parsed = forgotSchema.safeParse(req.body);
    const typed = typeof (req.body as { email?: unknown })?.email === 'string' ? String((req.body as { email: string }).email).slice(0, 254) : '';
    if (!parsed.success) return renderForgot(req, res, 400, req.t(parsed.error.issues[0]!.message), typed);
    // Counted per address whether or not it is anyone's, so the limit tells nothing either.
    const limit = await limiters.passwordResetPerAddress.consume(emailKey(parsed.data.email));
    if (!limit.ok) return renderForgot(req, res, 429, req.t('accounts.error.rateLimited', { seconds: limit.retryAfterSeconds }), typed);
    res.render('password/sent', { title: req.t('password.sent.title'), email: parsed.data.email });
    // After the answer: finding the member and queueing their mail take time a stranger could measure.
    void (async () => {
      const user = await findUserByEmail(parsed.data.email);
      if (!user || !deps.mail) return;
      // Per account too: many addresses cannot be used to flood one member (an address is one account's, but a changed one was someone's).
      if (!(await limiters.passwordResetPerAccount.consume(user._id.toString())).ok) return;
      await mailResetLink(deps.mail, user);
    })().catch((err: unknown) => log.error({ err }, 'password reset mail could not be queued'));
  });

  router.get('/password/reset/:token', async (req, res) => {
    if (!(await peekToken(req.params.token, 'reset'))) return renderDeadLink(req, res);
    renderReset(req, res);
  });
  router.post('/password/reset/:token', async (req, res) => {
    const parsed = resetSchema.safeParse(req.body);
    if (!parsed.success) {
      if (!(await peekToken(req.params.token, 'reset'))) return renderDeadLink(req, res);
      return renderReset(req, res, 400, req.t(parsed.error.issues[0]!.message));
    }
    const done = await resetPassword(req.params.token, parsed.data.password);
    if (!done) return renderDeadLink(req, res);
    // Every other session stops at its next request; every open socket closes now.
    deps.endUserSessions?.(done.userId);
    await signIn(req, done.userId, done.authVersion);
    flash(req, 'success', 'password.reset.done');
    res.redirect(303, '/');
  });

  return router;
}
