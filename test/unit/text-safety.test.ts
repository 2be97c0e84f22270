import { describe, expect, it } from 'vitest';
import { isSafeText, neutraliseText } from '../../src/text/safety.ts';

describe('neutraliseText', () => {
  it('removes NUL and the other control characters, keeping tabs and line breaks', () => {
    expect(neutraliseText('a\u0000b\u0007c\u001Bd\u007Fe\u0085f')).toBe('abcdef');
    expect(neutraliseText('one\ttwo\r\nthree\nfour')).toBe('one\ttwo\r\nthree\nfour');
  });

  it('removes bidirectional embeddings, overrides and isolates, and keeps right-to-left text itself', () => {
    expect(neutraliseText('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(neutraliseText('\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069x')).toBe('x');
    expect(neutraliseText('مرحبا \u200Fhello')).toBe('مرحبا \u200Fhello');
  });

  it('replaces lone surrogates, and keeps pairs (emoji) and Chinese whole', () => {
    expect(neutraliseText('a\uD800b\uDC00c')).toBe('a\uFFFDb\uFFFDc');
    expect(neutraliseText('end\uD83D')).toBe('end\uFFFD');
    expect(neutraliseText('你好 😀 小明')).toBe('你好 😀 小明');
    expect(isSafeText('你好 😀 小明')).toBe(true);
    expect(isSafeText('x\u202E')).toBe(false);
  });
});
