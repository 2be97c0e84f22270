// The signed-in member's own user document, which every page and every socket handshake
// reads. Each process keeps it for a short time (READ_CACHE_MS), as it does forum pages:
// on the embedded engine a read by `_id` costs about as much CPU as rendering the page.
// Writes to a user in this process (blocking, post counts: accounts/user-writes.ts) drop
// the kept copy at once; another process's writes show within the cache time. Checks
// that decide what others may do to this member (may X message them?) never use it:
// they read the member fresh (messaging/service.ts).
import { findUserById, UserModel, type UserDocument } from './user-model.ts';
import { onUserWritten } from './user-writes.ts';

const MAX_KEPT = 10_000;

export function createSignedInUserReader(cacheMs: number): (userId: string) => Promise<UserDocument | null> {
  if (cacheMs <= 0) return findUserById;
  // Lean copies: each request gets a document of its own, so no request sees another's changes.
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
