// Register, sign in, sign out.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../app.ts';
import { ensureCsrfToken } from '../http/csrf.ts';
import { flash } from '../http/locals.ts';
import { safeNext } from '../http/safe-next.ts';
import { requestEmailConfirmation } from '../settings/email.ts';
import { isSuspended } from '../moderation/roles.ts';
import { suspendedNotice } from '../moderation/suspension.ts';
import { knownDevices } from './known-device.ts';
import { loginSchema, registerSchema } from './schemas.ts';
import { authenticate, registerUser, UsernameConfusableError, UsernameTakenError } from './service.ts';
import { usernameKey } from './user-model.ts';

// Kept importable from here, where it started.
export { safeNext };

/** Starts a fresh session for the user: a new id defeats session fixation. */
export function signIn(req: Request, userId: string, authVersion = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((err) => {
      if (err) return reject(err);
      req.session.userId = userId;
      req.session.authVersion = authVersion;
      ensureCsrfToken(req);
      req.session.save((saveErr) => (saveErr ? reject(saveErr) : resolve()));
    });
  });
}

function formValues(body: unknown): { username: string; email: string; next: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  return { username: typeof b.username === 'string' ? b.username.slice(0, 64) : '', email: typeof b.email === 'string' ? b.email.slice(0, 254) : '', next: safeNext(b.next) };
}

export function accountsRouter(deps: AppDeps): Router {
  const router = Router();
  const { limiters } = deps;
  const devices = knownDevices(deps.secret, { secure: deps.config.trustProxy ? 'auto' : false });

  type FormError = { key: string; vars?: Record<string, string | number> };
  const renderForm = (view: 'register' | 'login') => (req: Request, res: Response, status = 200, error?: FormError) => {
    const values = req.method === 'POST' ? formValues(req.body) : { username: '', email: '', next: safeNext(req.query.next) };
    res.status(status).render(`accounts/${view}`, {
      title: req.t(view === 'login' ? 'accounts.login.title' : 'accounts.register.title'),
      error: error ? req.t(error.key, error.vars) : undefined,
      values,
    });
  };
  const renderRegister = renderForm('register');
  const renderLogin = renderForm('login');

  router.get('/register', (req, res) => renderRegister(req, res));
  router.post('/register', async (req, res) => {
    const parsed = registerSchema.safeParse(req.body);
    if (!parsed.success) return renderRegister(req, res, 400, { key: parsed.error.issues[0]!.message });
    const limit = await limiters.register.consume(req.ip ?? 'unknown');
    if (!limit.ok) return renderRegister(req, res, 429, { key: 'accounts.error.rateLimited', vars: { seconds: limit.retryAfterSeconds } });
    try {
      const user = await registerUser(parsed.data.username, parsed.data.password, req.locale);
      await signIn(req, user._id.toString(), user.authVersion ?? 0);
      // As after a sign-in: this browser is the owner's, and strangers cannot lock it out.
      devices.remember(req, res, usernameKey(user.username));
      // The address is the member's once they open the link mailed to it (settings/email.ts).
      if (parsed.data.email && deps.mail) {
        // The account is made either way; a mail that could not be queued can be asked for again in settings.
        await requestEmailConfirmation(deps.mail, user, parsed.data.email, req.locale).catch((err: unknown) =>
          deps.log.error({ err }, 'registration: the address confirmation could not be queued'),
        );
      }
      flash(req, 'success', 'accounts.register.welcome');
      res.redirect(303, formValues(req.body).next);
    } catch (err) {
      if (err instanceof UsernameTakenError) return renderRegister(req, res, 409, { key: 'accounts.error.usernameTaken' });
      if (err instanceof UsernameConfusableError) return renderRegister(req, res, 409, { key: 'safety.username.confusable' });
      throw err;
    }
  });

  router.get('/login', (req, res) => renderLogin(req, res));
  router.post('/login', async (req, res) => {
    const parsed = loginSchema.safeParse(req.body);
    if (!parsed.success) return renderLogin(req, res, 400, { key: parsed.error.issues[0]!.message });
    const accountKey = usernameKey(parsed.data.username);
    // Per address against spraying many accounts; per account against guessing one
    // password, except from a browser that has signed in to it before, which counts
    // against itself (see known-device.ts): strangers cannot lock the owner out.
    const deviceKey = devices.deviceKey(req, accountKey);
    for (const [limiter, key] of [
      [limiters.loginPerIp, req.ip ?? 'unknown'],
      [limiters.loginPerAccount, deviceKey ? `device:${deviceKey}` : accountKey],
    ] as const) {
      const limit = await limiter.consume(key);
      if (!limit.ok) return renderLogin(req, res, 429, { key: 'accounts.error.rateLimited', vars: { seconds: limit.retryAfterSeconds } });
    }
    const user = await authenticate(parsed.data.username, parsed.data.password);
    if (!user) return renderLogin(req, res, 401, { key: 'accounts.error.badLogin' });
    if (isSuspended(user)) return renderLogin(req, res, 403, suspendedNotice(user.suspendedUntil!, req.locale));
    await limiters.loginPerAccount.reset(accountKey);
    if (deviceKey) await limiters.loginPerAccount.reset(`device:${deviceKey}`);
    await signIn(req, user._id.toString(), user.authVersion ?? 0);
    devices.remember(req, res, accountKey);
    res.redirect(303, formValues(req.body).next);
  });

  router.post('/logout', (req, res, next) => {
    const sessionId = req.sessionID;
    req.session.destroy((err) => {
      if (err) return next(err);
      // Open tabs of this browser stop receiving messages now, not at their next reconnect
      // (their handshake would be refused then). Other devices keep their own sessions.
      deps.closeSessionSockets?.(sessionId);
      res.clearCookie('parley.sid');
      res.redirect(303, '/');
    });
  });

  return router;
}
