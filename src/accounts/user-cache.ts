// Users read by `_id` on the hot paths (the signed-in member on every page, a message's
// recipient on every send) are kept per process for a short time (READ_CACHE_MS): on the
// embedded engine a read by `_id` costs about as much CPU as rendering a page.
//
// A write to a user (blocking, post counts: accounts/user-writes.ts) drops the kept copy
// at once in this process, and in the others too when they share Redis (server.ts relays
// the news through Socket.IO's adapter), so a block takes effect everywhere within the
// time a Redis message takes, not the cache time. Without Redis there is one process.
import { createReadCache } from '../db/read-cache.ts';
import { findUserById, UserModel, type UserDocument } from './user-model.ts';
import { onUserWritten } from './user-writes.ts';

const MAX_KEPT = 10_000;

export type UserReader = (userId: string) => Promise<UserDocument | null>;

export function createUserReader(cacheMs: number): UserReader {
  if (cacheMs <= 0) return findUserById;
  const cache = createReadCache({ ttlMs: cacheMs, maxEntries: MAX_KEPT });
  // Keys are whole ids (24 hex digits), so the prefix names exactly one user.
  onUserWritten((userId) => cache.invalidate(userId));
  return async (userId) => {
    // Lean copies: each caller gets a document of its own, so no request sees another's changes.
    const kept = await cache.get(userId, async () => (await findUserById(userId))?.toObject() ?? null);
    // No one is remembered as missing: the next read looks again.
    if (!kept) cache.invalidate(userId);
    return kept ? UserModel.hydrate(kept) : null;
  };
}
