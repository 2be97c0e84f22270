// Per-request view state: language, translation function, the signed-in user and
// flash messages. Every page renders with these in res.locals.
import { parse as parseCookies } from 'cookie';
import type { NextFunction, Request, Response } from 'express';
import { findUserById, type UserDocument } from '../accounts/user-model.ts';
import { isSuspended } from '../moderation/roles.ts';
import { formatDate, isLocale, LOCALE_COOKIE, negotiateLocale, translator, type Locale } from '../i18n/index.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      locale: Locale;
      t: ReturnType<typeof translator>;
      user?: UserDocument;
    }
  }
}

export function localeFromRequest(req: Request): Locale {
  const cookies = parseCookies(req.headers.cookie ?? '');
  const chosen = cookies[LOCALE_COOKIE];
  return isLocale(chosen) ? chosen : negotiateLocale(req.headers['accept-language']);
}

export function localization(req: Request, res: Response, next: NextFunction): void {
  const locale = localeFromRequest(req);
  req.locale = locale;
  req.t = translator(locale);
  res.locals.locale = locale;
  res.locals.t = req.t;
  res.locals.formatDate = (date: Date, style?: 'moment' | 'day') => formatDate(locale, date, style);
  res.locals.currentPath = req.originalUrl;
  // Defaults, so that pages rendered before the session is read (errors, 503) still render.
  res.locals.currentUser = undefined;
  res.locals.flash = [];
  next();
}

/**
 * Loads the signed-in user (with `readUser`, e.g. accounts/user-cache.ts). A session
 * naming a deleted user is treated as signed out.
 */
export function currentUser(readUser: (userId: string) => Promise<UserDocument | null> = findUserById) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const userId = req.session?.userId;
    if (userId) {
      const user = await readUser(userId);
      // A session from before a password change or reset is signed out, and so is a
      // suspended member, on their next page, on any process.
      if (user && (user.authVersion ?? 0) === (req.session.authVersion ?? 0) && !isSuspended(user)) req.user = user;
      else delete req.session.userId;
    }
    res.locals.currentUser = req.user ? { id: req.user._id.toString(), username: req.user.username, role: req.user.role ?? 'member' } : undefined;
    res.locals.flash = req.session?.flash ?? [];
    if (req.session?.flash) delete req.session.flash;
    next();
  };
}

export function flash(req: Request, kind: 'success' | 'info' | 'danger', text: string): void {
  req.session.flash = [...(req.session.flash ?? []), { kind, text }];
}

export function requireUser(req: Request, res: Response, next: NextFunction): void {
  if (req.user) return next();
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}
