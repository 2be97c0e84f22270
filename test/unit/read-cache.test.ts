import { describe, expect, it } from 'vitest';
import { createReadCache } from '../../src/db/read-cache.ts';

function counter() {
  let calls = 0;
  const load = async () => ++calls;
  return { load, calls: () => calls };
}

describe('the read cache', () => {
  it('serves a value until it expires', async () => {
    let now = 0;
    const cache = createReadCache({ ttlMs: 1000, maxEntries: 10, now: () => now });
    const source = counter();
    expect(await cache.get('k', source.load)).toBe(1);
    now = 999;
    expect(await cache.get('k', source.load)).toBe(1);
    now = 1000;
    expect(await cache.get('k', source.load)).toBe(2);
  });

  it('forgets keys by prefix when they change', async () => {
    const cache = createReadCache({ ttlMs: 60_000, maxEntries: 10 });
    const a = counter();
    const b = counter();
    await cache.get('home:1', a.load);
    await cache.get('post:1', b.load);
    cache.invalidate('home:');
    expect(await cache.get('home:1', a.load)).toBe(2);
    expect(await cache.get('post:1', b.load)).toBe(1);
  });

  it('loads once for concurrent misses', async () => {
    const cache = createReadCache({ ttlMs: 60_000, maxEntries: 10 });
    const source = counter();
    const values = await Promise.all(Array.from({ length: 5 }, () => cache.get('k', source.load)));
    expect(values).toEqual([1, 1, 1, 1, 1]);
    expect(source.calls()).toBe(1);
  });

  it('does not remember a failure', async () => {
    const cache = createReadCache({ ttlMs: 60_000, maxEntries: 10 });
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', async () => 'up')).toBe('up');
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = createReadCache({ ttlMs: 60_000, maxEntries: 2 });
    const source = counter();
    await cache.get('a', source.load);
    await cache.get('b', source.load);
    await cache.get('c', source.load);
    expect(await cache.get('b', source.load)).toBe(2);
    expect(await cache.get('a', source.load)).toBe(4);
  });

  it('is off at 0 ms', async () => {
    const cache = createReadCache({ ttlMs: 0, maxEntries: 10 });
    const source = counter();
    await cache.get('k', source.load);
    expect(await cache.get('k', source.load)).toBe(2);
  });
});
