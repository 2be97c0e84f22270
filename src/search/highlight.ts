// A result's text as safe HTML with the query's words marked. User text is escaped
// piece by piece; only our own <mark> tags are added between the pieces.
import { escapeHtml } from '../http/escape.ts';

interface Range {
  start: number;
  end: number;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/**
 * The text's characters normalised one by one (as tokenize.ts does the whole), each
 * remembering where it came from, so that a match in the normalised text marks the
 * right characters of the original.
 */
function normalisedChars(text: string): { chars: string[]; from: number[] } {
  const chars: string[] = [];
  const from: number[] = [];
  let offset = 0;
  for (const c of text) {
    for (const n of c.normalize('NFKC').toLowerCase()) {
      chars.push(n);
      from.push(offset);
    }
    offset += c.length;
  }
  from.push(offset);
  return { chars, from };
}

/** Where the terms occur: words only at word boundaries, unspaced runs anywhere. */
function matches(text: string, terms: string[]): Range[] {
  const { chars, from } = normalisedChars(text);
  const ranges: Range[] = [];
  for (const term of terms) {
    const t = [...term];
    if (t.length === 0) continue;
    const unspaced = UNSPACED.test(t[0]!);
    for (let i = 0; i + t.length <= chars.length; i++) {
      let same = true;
      for (let j = 0; j < t.length && same; j++) same = chars[i + j] === t[j];
      if (!same) continue;
      if (!unspaced && ((i > 0 && WORD_CHAR.test(chars[i - 1]!)) || (i + t.length < chars.length && WORD_CHAR.test(chars[i + t.length]!)))) continue;
      ranges.push({ start: from[i]!, end: from[i + t.length]! });
    }
  }
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Range[] = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}

function mark(text: string, ranges: Range[], offset: number): string {
  let html = '';
  let at = 0;
  for (const r of ranges) {
    const start = Math.max(0, r.start - offset);
    const end = Math.min(text.length, r.end - offset);
    if (end <= start) continue;
    html += escapeHtml(text.slice(at, start)) + `<mark>${escapeHtml(text.slice(start, end))}</mark>`;
    at = end;
  }
  return html + escapeHtml(text.slice(at));
}

/** The whole text, escaped, with every occurrence of the terms marked. */
export function highlight(text: string, terms: string[]): string {
  return mark(text, matches(text, terms), 0);
}

/** About `width` characters around the first match (the start when none), escaped and marked; "…" where cut. */
export function snippet(text: string, terms: string[], width = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const ranges = matches(flat, terms);
  const first = ranges[0]?.start ?? 0;
  let start = Math.max(0, first - Math.floor(width / 3));
  // Never cut a surrogate pair in half.
  if (start > 0 && /[\uDC00-\uDFFF]/.test(flat[start]!)) start--;
  let end = Math.min(flat.length, start + width);
  if (end < flat.length && /[\uDC00-\uDFFF]/.test(flat[end]!)) end++;
  const body = mark(flat.slice(start, end), ranges, start);
  return `${start > 0 ? '…' : ''}${body}${end < flat.length ? '…' : ''}`;
}
