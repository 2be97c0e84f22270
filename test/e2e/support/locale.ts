// "The Chinese interface renders in Chinese", checked against the app's own dictionaries:
// no interface string may show in English where the chosen language has its own.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const localesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../locales');

export function dictionary(locale: string): Record<string, string> {
  const dir = path.join(localesDir, locale);
  const files = readdirSync(dir).filter((file) => file.endsWith('.json'));
  return Object.assign({}, ...files.map((file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, string>));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The longest part of a string that does not depend on its {placeholders}. */
function fixedPart(value: string): string {
  return value.split(/\{\w+\}/).map((part) => part.trim()).sort((a, b) => b.length - a.length)[0] ?? '';
}

/**
 * What `locale` says where English says something matching `english`, e.g. the Chinese
 * of the offline notice: translationsMatching(/offline/i, 'zh-CN').
 */
export function translationsMatching(english: RegExp, locale: string): string[] {
  const translated = dictionary(locale);
  return Object.entries(dictionary('en'))
    .filter(([key, value]) => english.test(value) && key in translated)
    .map(([key]) => fixedPart(translated[key]!))
    .filter(Boolean);
}

/**
 * English interface strings the page shows (as text or in placeholder, title, aria-label or
 * alt) although `locale` translates them. Strings with {placeholders} are checked by their
 * longest fixed part.
 */
export async function untranslatedStrings(page: Page, locale: string): Promise<string[]> {
  const english = dictionary('en');
  const translated = dictionary(locale);
  const shown = await page.evaluate(() => {
    const attributes = Array.from(document.querySelectorAll('[placeholder], [title], [aria-label], [alt]')).flatMap((element) =>
      ['placeholder', 'title', 'aria-label', 'alt'].map((name) => element.getAttribute(name) ?? ''),
    );
    return [document.title, document.body.innerText, ...attributes].join('\n');
  });
  const found: string[] = [];
  for (const [key, value] of Object.entries(english)) {
    if (!(key in translated) || translated[key] === value) continue;
    const fixed = fixedPart(value);
    if (fixed.length < 3) continue;
    if (new RegExp(`(^|\\W)${escapeRegExp(fixed)}($|\\W)`).test(shown)) found.push(`${key}: "${value}"`);
  }
  return found;
}
