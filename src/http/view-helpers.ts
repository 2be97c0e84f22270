// Helpers for what a page repeats many times: an avatar beside every author, a count
// beside every post. A list page has dozens of them, and an EJS include resolves its
// file on disk and copies every local each time, which made up half of the home page's
// rendering; the avatar partial compiled once and called as a function does not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import type { NextFunction, Request, Response } from 'express';
import { avatarUrl } from '../accounts/avatar.ts';

type AvatarSize = 'sm' | 'md' | 'lg';

const pluralRules = new Map<string, Intl.PluralRules>();
function pluralCategory(locale: string, count: number): string {
  let rules = pluralRules.get(locale);
  if (!rules) pluralRules.set(locale, (rules = new Intl.PluralRules(locale)));
  return rules.select(count);
}

export function viewHelpers(options: { viewsDir: string; cacheTemplates: boolean }) {
  const avatarFile = path.join(options.viewsDir, 'partials', 'avatar.ejs');
  const compileAvatar = () => ejs.compile(readFileSync(avatarFile, 'utf8'), { filename: avatarFile });
  let cachedAvatar: ejs.TemplateFunction | undefined;
  // Without the view cache (development) an edited partial shows on the next page.
  const avatarTemplate = () => (options.cacheTemplates ? (cachedAvatar ??= compileAvatar()) : compileAvatar());

  return (req: Request, res: Response, next: NextFunction): void => {
    /** views/partials/avatar.ejs for one user: `<%- avatar(name, 'sm') %>`. */
    res.locals.avatar = (username: string, size: AvatarSize = 'md') => avatarTemplate()({ username, size, t: req.t, avatarUrl });
    /** A counted phrase: the key's `.one`/`.other`… form for this language, with {count}. */
    // Where the language switcher brings the reader back to. A page shown in answer to a
    // form (a refused post) has no address of its own; its route may name one.
    res.locals.languageReturnPath = req.method === 'GET' ? req.originalUrl : '/';
    res.locals.tCount = (key: string, count: number) => {
      const form = `${key}.${pluralCategory(req.locale, count)}`;
      const text = req.t(form, { count });
      return text === form ? req.t(`${key}.other`, { count }) : text;
    };
    next();
  };
}
