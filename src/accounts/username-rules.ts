// Usernames that look like another: `ѕecA` (Cyrillic ѕ) beside `secA` shows identically
// on every page and is another account. Unicode TR 39 ("Security Mechanisms") gives the
// two defences used here:
//
// - A name may not mix scripts in a confusable way: letters of one script, or Latin with
//   the scripts written together with Han (Chinese, Japanese, Korean), as TR 39's
//   "highly restrictive" level allows. Digits, `_` and `-` belong to every script.
// - No two names may share a skeleton: the string TR 39 maps every confusable to (`ѕ`
//   and `s` both become `s`, `m` becomes `rn`). The skeleton is unique across members
//   (accounts/service.ts claims it as an `_id`), so a look-alike of any existing name is
//   refused, whatever the scripts.
//
// And a few names are reserved for the people who run the forum, together with their
// look-alikes ("аdmin" with a Cyrillic а, "Admin_2").
import unhomoglyph from 'unhomoglyph';

/**
 * TR 39 skeleton (confusables.txt through unhomoglyph), case-folded as usernames are:
 * mapped as written ("AIice" reads "Alice"), then once more in lower case ("Moderator"
 * is "moderator", whose m reads rn).
 */
export function usernameSkeleton(username: string): string {
  const asWritten = unhomoglyph(username.normalize('NFKC').normalize('NFD'));
  return unhomoglyph(asWritten.toLowerCase().normalize('NFD')).normalize('NFD');
}

const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari', 'Bengali',
  'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao',
  'Tibetan', 'Myanmar', 'Georgian', 'Hangul', 'Ethiopic', 'Cherokee', 'Khmer', 'Mongolian', 'Hiragana',
  'Katakana', 'Bopomofo', 'Han',
].map((name) => ({ name, pattern: new RegExp(`\\p{Script=${name}}`, 'u') }));
const SHARED = /[\p{Script=Common}\p{Script=Inherited}]/u;

/** Script sets TR 39's "highly restrictive" level allows together. */
const ALLOWED_MIXES = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function scriptsOf(username: string): Set<string> {
  const scripts = new Set<string>();
  for (const char of username) {
    if (SHARED.test(char)) continue;
    scripts.add(SCRIPTS.find((script) => script.pattern.test(char))?.name ?? 'Other');
  }
  return scripts;
}

/** One script, or one of the mixes above. */
export function hasSafeScripts(username: string): boolean {
  const scripts = scriptsOf(username);
  if (scripts.size <= 1) return true;
  return ALLOWED_MIXES.some((allowed) => [...scripts].every((script) => allowed.has(script)));
}

const RESERVED = [
  'admin', 'administrator', 'admins', 'moderator', 'moderators', 'mod', 'mods', 'parley', 'system', 'root',
  'support', 'staff', 'official', 'security', 'help', 'owner', 'sysop', 'superuser', 'webmaster',
  'postmaster', 'hostmaster', 'abuse', 'noreply',
];
const RESERVED_SKELETONS = new Set(RESERVED.map(usernameSkeleton));

/** Reserved, or a look-alike of a reserved name; `_`, `-` and trailing digits do not make it another name. */
export function isReservedUsername(username: string): boolean {
  const core = username.replace(/[_-]/g, '').replace(/\p{Nd}+$/u, '');
  return RESERVED_SKELETONS.has(usernameSkeleton(core)) || RESERVED_SKELETONS.has(usernameSkeleton(username.replace(/[_-]/g, '')));
}
