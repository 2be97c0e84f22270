// Every UI string goes through t(). Strings live in locales/<lang>/<feature>.json, one
// file per feature, merged at start-up; a key missing in Chinese falls back to English.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';
export const LOCALE_COOKIE = 'parley.lang';

type Dictionary = Record<string, string>;
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

const localesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../locales');

function loadDictionary(locale: Locale): Dictionary {
  const dir = path.join(localesDir, locale);
  const merged: Dictionary = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const entries = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Dictionary;
    for (const [key, value] of Object.entries(entries)) {
      if (key in merged) throw new Error(`duplicate translation key "${key}" in ${locale}/${file}`);
      merged[key] = value;
    }
  }
  return merged;
}

const dictionaries: Record<Locale, Dictionary> = {
  en: loadDictionary('en'),
  'zh-CN': loadDictionary('zh-CN'),
};

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

export function translator(locale: Locale): Translate {
  const dict = dictionaries[locale];
  const fallback = dictionaries[DEFAULT_LOCALE];
  return (key, vars) => {
    const template = dict[key] ?? fallback[key] ?? key;
    if (!vars) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
  };
}

/** Picks a supported locale from an Accept-Language header, honouring q-values. */
export function negotiateLocale(header: string | undefined): Locale {
  if (!header) return DEFAULT_LOCALE;
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q.trim().slice(2)) || 0 : 1 };
    })
    .filter((entry) => entry.tag && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return DEFAULT_LOCALE;
}

/** Dates per locale: one formatter per locale and style, reused. `day` leaves out the time. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
// Neither style shows seconds, so a formatted minute can be reused: a list page shows
// dozens of dates, and formatting is the costly part of rendering one.
const formattedMinutes = new Map<string, string>();
const MAX_REMEMBERED = 10_000;

export function formatDate(locale: Locale, date: Date, style: 'moment' | 'day' = 'moment'): string {
  const formatKey = `${locale}:${style}`;
  const key = `${formatKey}:${Math.floor(date.getTime() / 60_000)}`;
  let text = formattedMinutes.get(key);
  if (text !== undefined) return text;
  let format = dateFormats.get(formatKey);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, style === 'day' ? { dateStyle: 'long' } : { dateStyle: 'medium', timeStyle: 'short' });
    dateFormats.set(formatKey, format);
  }
  text = format.format(date);
  if (formattedMinutes.size >= MAX_REMEMBERED) formattedMinutes.clear();
  formattedMinutes.set(key, text);
  return text;
}
