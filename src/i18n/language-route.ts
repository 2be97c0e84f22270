// The language switcher: remembers the choice in a cookie, which wins over
// Accept-Language from then on (see localeFromRequest), and goes back where the reader was.
// A GET link rather than a form: it changes only the reader's own preference, and pages
// stay free of CSRF tokens (and so of sessions) for readers who are not signed in.
import { Router } from 'express';
import { NotFoundError } from '../http/errors.ts';
import { safeNext } from '../http/safe-next.ts';
import { isLocale, LOCALE_COOKIE } from './index.ts';

const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

export function languageRouter(): Router {
  const router = Router();
  router.get('/language/:locale', (req, res) => {
    if (!isLocale(req.params.locale)) throw new NotFoundError();
    res.cookie(LOCALE_COOKIE, req.params.locale, { maxAge: ONE_YEAR_MS, httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });
    res.redirect(303, safeNext(req.query.next));
  });
  return router;
}
