import { describe, expect, it } from 'vitest';
import { encodeLast, lastOf } from '../../src/messaging/models.ts';

const at = new Date('2026-11-26T01:00:00Z');

describe("an inbox entry's last message", () => {
  it('sorts as a string by seq, so $max keeps the newest whatever the text', () => {
    const older = encodeLast({ seq: 9, at, from: 'a', preview: 'zzz later text' });
    const newer = encodeLast({ seq: 10, at, from: 'b', preview: 'aaa' });
    expect([newer, older].sort()).toEqual([older, newer]);
    expect(encodeLast({ seq: 123456789012, at, from: 'a', preview: '' }) > newer).toBe(true);
  });

  it('decodes what it encoded, including text with spaces and quotes', () => {
    const m = { seq: 42, at, from: 'abc', preview: 'say "hi" 你好 {json}' };
    expect(lastOf({ conv: 'c', user: 'u', username: 'n', last: encodeLast(m) })).toEqual(m);
  });

  it('reads entries written before the encoded form, taking the newer when both are there', () => {
    const legacy = { conv: 'c', user: 'u', username: 'n', seq: 7, at, from: 'x', preview: 'old format' };
    expect(lastOf(legacy)?.preview).toBe('old format');
    expect(lastOf({ ...legacy, last: encodeLast({ seq: 8, at, from: 'y', preview: 'new' }) })?.preview).toBe('new');
    expect(lastOf({ ...legacy, last: encodeLast({ seq: 3, at, from: 'y', preview: 'late' }) })?.preview).toBe('old format');
    expect(lastOf(undefined)).toBeUndefined();
  });
});
