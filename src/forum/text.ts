// Plain text as HTML: escaped first, then http(s) links made clickable and line breaks
// kept. Escaping comes first so that nothing a user types can become markup; the link
// pattern then only ever sees escaped text, in which `<`, `>`, `"` and `'` cannot occur.
import { escapeHtml } from '../http/escape.ts';

// URL characters of RFC 3986 as they look once escaped: `&` only as `&amp;`. Other
// entities (`&lt;`, `&quot;`…) end a link, so "<http://a.example>" links just the URL.
// Non-ASCII ends a link too: Chinese text often follows a URL with no space between.
const LINK = /\bhttps?:\/\/(?:&amp;|[\w\-.~:/?#[\]@!$()*+,;=%])+/gi;
const TRAILING_PUNCTUATION = '.,;:!?';

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n++;
  return n;
}

/** Drops what reads as punctuation after a link, keeping balanced brackets (Wikipedia's "Foo_(bar)"). */
function trimLink(url: string): string {
  for (;;) {
    if (url.endsWith('&amp;')) return url;
    const last = url.at(-1) ?? '';
    const unbalanced =
      (last === ')' && count(url, '(') < count(url, ')')) || (last === ']' && count(url, '[') < count(url, ']'));
    if (!TRAILING_PUNCTUATION.includes(last) && !unbalanced) return url;
    url = url.slice(0, -1);
  }
}

function hasHost(escapedUrl: string): boolean {
  try {
    return new URL(escapedUrl.replaceAll('&amp;', '&')).hostname.length > 0;
  } catch {
    return false;
  }
}

export function renderText(text: string): string {
  return escapeHtml(text)
    .replace(LINK, (match) => {
      const url = trimLink(match);
      if (!hasHost(url)) return match;
      return `<a href="${url}" rel="nofollow noopener ugc">${url}</a>${match.slice(url.length)}`;
    })
    .replace(/\r\n?|\n/g, '<br>\n');
}
