// A short-lived in-memory cache for hot reads: the forum's posts and lists, members read
// by id (accounts/user-cache.ts), the header badge (messaging/store.ts).
//
// The embedded FerretDB answers a few hundred `_id` lookups a second on this machine,
// fewer than the pages we want to serve. Serving a page's data from memory for a second
// or so takes the database off the hot path: a write in this process drops what it
// changed at once, so its author sees it on the next page; other processes see it when
// their copy expires. Concurrent misses for one key share a single load.
export interface ReadCache {
  get<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** Forgets every key starting with the prefix. */
  invalidate(prefix: string): void;
}

interface Entry {
  value: Promise<unknown>;
  expires: number;
}

export function createReadCache(options: { ttlMs: number; maxEntries: number; now?: () => number }): ReadCache {
  const { ttlMs, maxEntries, now = Date.now } = options;
  const entries = new Map<string, Entry>();

  return {
    get<T>(key: string, load: () => Promise<T>): Promise<T> {
      if (ttlMs === 0) return load();
      const hit = entries.get(key);
      if (hit && hit.expires > now()) return hit.value as Promise<T>;
      if (hit) entries.delete(key);
      if (entries.size >= maxEntries) {
        // Maps iterate in insertion order: the first key is the oldest.
        entries.delete(entries.keys().next().value!);
      }
      const value = load();
      const entry: Entry = { value, expires: now() + ttlMs };
      entries.set(key, entry);
      // A failed load is not remembered; the next request tries again.
      value.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      return value;
    },
    invalidate(prefix) {
      for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key);
    },
  };
}
