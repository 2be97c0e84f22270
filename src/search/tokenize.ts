// Words of a text as the search index knows them. Latin-script (and any spaced) text
// splits into words; Chinese and Japanese have no spaces between words, so a run of
// their characters is indexed by character: every single character and every pair of
// neighbours (bigrams). A query of two or more such characters looks for its pairs,
// which finds the phrase wherever the characters stand together; a single character
// looks for itself. Everything is NFKC-normalised and lower-cased first, so full-width
// "ＡＢＣ" finds "abc".

/** Scripts written without spaces between words. */
const UNSPACED = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}';
const TOKEN = new RegExp(`([${UNSPACED}]+)|((?:(?![${UNSPACED}])[\\p{L}\\p{N}])+)`, 'gu');

/** Longer words are cut: nobody searches for 40-letter words, and keys stay short. */
export const MAX_WORD_LENGTH = 32;
/** A query's terms beyond this are ignored. */
export const MAX_QUERY_TERMS = 8;

export interface Token {
  /** The normalised term. */
  term: string;
  unspaced: boolean;
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function* tokens(text: string): Generator<Token> {
  for (const match of normalise(text).matchAll(TOKEN)) {
    if (match[1]) yield { term: match[1], unspaced: true };
    else if (match[2] && [...match[2]].length >= 2) yield { term: [...match[2]].slice(0, MAX_WORD_LENGTH).join(''), unspaced: false };
  }
}

function pairs(chars: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}

/** The distinct terms a text is indexed under. */
export function indexTerms(text: string): string[] {
  const terms = new Set<string>();
  for (const { term, unspaced } of tokens(text)) {
    if (!unspaced) {
      terms.add(term);
      continue;
    }
    const chars = [...term];
    for (const c of chars) terms.add(c);
    for (const pair of pairs(chars)) terms.add(pair);
  }
  return [...terms];
}

/** The distinct terms a query looks for (all must be present), and its runs of unspaced characters (for highlighting). */
export function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const { term, unspaced } of tokens(query)) {
    const chars = [...term];
    if (!unspaced) terms.add(term);
    else if (chars.length === 1) terms.add(term);
    else for (const pair of pairs(chars)) terms.add(pair);
    if (terms.size >= MAX_QUERY_TERMS) break;
  }
  return [...terms].slice(0, MAX_QUERY_TERMS);
}

/** What to mark in a result: the query's words, and its unspaced runs whole. */
export function highlightTerms(query: string): string[] {
  return [...new Set([...tokens(query)].map((t) => t.term))];
}
