// A deterministic corpus for the search benchmark: forum-like texts in English, Chinese
// and both, with word frequencies that follow Zipf's law (a few words everywhere, most
// rare), so that queries meet long and short posting lists as a real forum's would.
import { ObjectId } from 'mongodb';

/** mulberry32: small, fast, and the same sequence on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 0…n-1 with probability ∝ 1/(rank+1)^s. */
function zipf(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / (i + 1) ** s;
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const ENGLISH_VOCABULARY = 30_000;
const CHINESE_CHARACTERS = 2_500;
const CHINESE_WORDS = 12_000;

/** An English-looking word for a rank: the same rank is always the same word. */
export function englishWord(rank: number): string {
  const syllables = ['ka', 'lo', 'mi', 'ten', 'ra', 'sol', 'vi', 'der', 'pa', 'nu', 'ex', 'tro', 'ban', 'qui', 'zel', 'or'];
  let n = rank + 16;
  let word = '';
  while (n > 0) {
    word += syllables[n % 16];
    n = Math.floor(n / 16);
  }
  return word;
}

export interface Corpus {
  /** The next text, oldest first, with an ObjectId that orders it. */
  next(): { ref: string; title: string; body: string; at: Date };
  englishWord(rank: number): string;
  chineseWord(rank: number): string;
  chineseChar(rank: number): string;
}

export function searchCorpus(seed = 7): Corpus {
  const rand = random(seed);
  const english = zipf(ENGLISH_VOCABULARY, 1.05, rand);
  const chineseWordRank = zipf(CHINESE_WORDS, 1.0, rand);
  const charRank = zipf(CHINESE_CHARACTERS, 0.9, random(seed + 1));
  // Common Han characters stand in a block; a fixed shuffle of them keeps ranks stable.
  const chars = Array.from({ length: CHINESE_CHARACTERS }, (_v, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20_000)));
  const words = Array.from({ length: CHINESE_WORDS }, () => chars[charRank()]! + chars[charRank()]!);
  const start = Date.UTC(2024, 0, 1) / 1000;
  let n = 0;

  const englishText = (count: number) => Array.from({ length: count }, () => englishWord(english())).join(' ');
  const chineseText = (count: number) => Array.from({ length: count }, () => words[chineseWordRank()]).join('');

  return {
    next() {
      const time = start + n * 30;
      const id = ObjectId.createFromTime(time).toHexString().slice(0, 16) + (n++).toString(16).padStart(8, '0');
      const kind = rand();
      const body = kind < 0.5 ? englishText(12 + Math.floor(rand() * 20)) : kind < 0.8 ? chineseText(8 + Math.floor(rand() * 12)) : `${englishText(6)} ${chineseText(6)}`;
      return { ref: `${n % 5 === 0 ? 'p' : 'r'}:${id}`, title: kind < 0.5 ? englishText(4) : chineseText(3), body, at: new Date(time * 1000) };
    },
    englishWord,
    chineseWord: (rank) => words[rank]!,
    chineseChar: (rank) => chars[rank]!,
  };
}
