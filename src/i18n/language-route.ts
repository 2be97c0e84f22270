// The language switcher: remembers the choice in a cookie, which wins over
// Accept-Language from then on (see localeFromRequest), and goes back where the reader was.
// A GET link rather than a form: it changes only the reader's own preference, and pages
// stay free of CSRF tokens (and so of sessions) for readers who are not signed in.
import { Router, type Request, type Response } from 'express';
import { NotFoundError } from '../http/errors.ts';
import { safeNext } from '../http/safe-next.ts';
import { isLocale, LOCALE_COOKIE, type Locale } from './index.ts';

const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** Remembers the reader's language in its cookie (also the settings page's language form). */
export function rememberLocale(req: Request, res: Response, locale: Locale): void {
  res.cookie(LOCALE_COOKIE, locale, { maxAge: ONE_YEAR_MS, httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });
}

export function languageRouter(): Router {
  const router = Router();
  router.get('/language/:locale', (req, res) => {
    if (!isLocale(req.params.locale)) throw new NotFoundError();
    rememberLocale(req, res, req.params.locale);
    res.redirect(303, safeNext(req.query.next));
  });
  return router;
}
