import { describe, expect, it } from 'vitest';
import { highlight, snippet } from '../../src/search/highlight.ts';
import { highlightTerms, indexTerms, queryTerms } from '../../src/search/tokenize.ts';

describe('search terms', () => {
  it('splits spaced text into lower-cased words of two or more characters', () => {
    expect(indexTerms('Hello, World! a I 42 x1')).toEqual(['hello', 'world', '42', 'x1']);
  });

  it('indexes Chinese by every character and every pair of neighbours', () => {
    expect(indexTerms('长城很长')).toEqual(['长', '城', '很', '长城', '城很', '很长']);
  });

  it('looks a Chinese query up by its pairs, a single character by itself', () => {
    expect(queryTerms('看长城')).toEqual(['看长', '长城']);
    expect(queryTerms('城')).toEqual(['城']);
    expect(queryTerms('学习vue框架')).toEqual(['学习', 'vue', '框架']);
  });

  it('treats full-width letters as ASCII and ignores punctuation', () => {
    expect(queryTerms('ＶＵＥ！')).toEqual(['vue']);
    expect(queryTerms('...!!!')).toEqual([]);
  });

  it('keeps at most eight terms of a query', () => {
    expect(queryTerms('a1 b2 c3 d4 e5 f6 g7 h8 i9 j10')).toHaveLength(8);
  });
});

describe('highlighting', () => {
  it('marks whole words only, escaping everything else', () => {
    expect(highlight('<b>Cat</b> cats & cat', highlightTerms('cat'))).toBe('&lt;b&gt;<mark>Cat</mark>&lt;/b&gt; cats &amp; <mark>cat</mark>');
  });

  it('marks a Chinese query run wherever it stands', () => {
    expect(highlight('去看长城吧', highlightTerms('长城'))).toBe('去看<mark>长城</mark>吧');
  });

  it('marks full-width text found by its ASCII form, in the original characters', () => {
    expect(highlight('I like ＶＵＥ.', highlightTerms('vue'))).toBe('I like <mark>ＶＵＥ</mark>.');
  });

  it('cuts a long text around the first match, with ellipses', () => {
    const text = `${'word '.repeat(100)}needle ${'tail '.repeat(100)}`;
    const cut = snippet(text, ['needle'], 60);
    expect(cut.startsWith('…')).toBe(true);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).toContain('<mark>needle</mark>');
  });

  it('never splits a character outside the Basic Multilingual Plane', () => {
    const text = `${'😀'.repeat(200)}`;
    expect(snippet(text, ['x'], 51)).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
