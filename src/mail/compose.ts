// Renders a mail from views/mail/<kind>.html.ejs and <kind>.txt.ejs in the member's
// language. The HTML escapes everything a member wrote (EJS `<%= %>`); the text part is
// plain text, where nothing is markup, so it is rendered without escaping.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { formatDate, translator, type Locale } from '../i18n/index.ts';

const viewsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../views/mail');

export type MailKind = 'reset' | 'confirm' | 'unread';

export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
}

export async function composeMail(kind: MailKind, locale: Locale, vars: Record<string, unknown>): Promise<ComposedMail> {
  const t = translator(locale);
  const locals = { ...vars, t, locale, formatDate: (date: Date) => formatDate(locale, date) };
  const subject = t(`mail.${kind}.subject`, vars as Record<string, string | number>);
  const [html, text] = await Promise.all([
    ejs.renderFile(path.join(viewsDir, `${kind}.html.ejs`), { ...locals, subject }, { cache: true }),
    ejs.renderFile(path.join(viewsDir, `${kind}.txt.ejs`), { ...locals, subject }, { cache: true, escape: (s: unknown) => String(s) }),
  ]);
  return { subject, html, text: text.replace(/\n{3,}/g, '\n\n').trim() + '\n' };
}
