// Users read by `_id` on the hot paths (the signed-in member on every page, a message's
// recipient on every send) are kept per process for a short time (READ_CACHE_MS): on the
// embedded engine a read by `_id` costs about as much CPU as rendering a page.
//
// A write to a user (blocking, post counts: accounts/user-writes.ts) drops the kept copy
// at once in this process, and in the others too when they share Redis (server.ts relays
// the news through Socket.IO's adapter), so a block takes effect everywhere within the
// time a Redis message takes, not the cache time. Without Redis there is one process.
import { findUserById, UserModel, type UserDocument } from './user-model.ts';
import { onUserWritten } from './user-writes.ts';

const MAX_KEPT = 10_000;

export type UserReader = (userId: string) => Promise<UserDocument | null>;

export function createUserReader(cacheMs: number): UserReader {
  if (cacheMs <= 0) return findUserById;
  // Lean copies: each caller gets a document of its own, so no request sees another's changes.
  const kept = new Map<string, { user: Record<string, unknown>; until: number }>();
  onUserWritten((userId) => kept.delete(userId));
  return async (userId) => {
    const hit = kept.get(userId);
    if (hit && hit.until > Date.now()) return UserModel.hydrate(hit.user);
    const user = await findUserById(userId);
    if (user) {
      kept.delete(userId); // re-inserted last: oldest first, for the bound below
      kept.set(userId, { user: user.toObject(), until: Date.now() + cacheMs });
      if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
    }
    return user;
  };
}
